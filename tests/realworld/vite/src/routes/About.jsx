import { siteName } from "../App.jsx";
import photo from "../assets/photo.png";
import "./About.css";

export default function About() {
  return (
    <section className="about">
      <p id="about">About {siteName}</p>
      <img src={photo} alt="photo" width="16" height="16" />
    </section>
  );
}
