import { lazy, Suspense, useEffect, useState } from "react";
import logo from "./assets/logo.svg";

// The lazy route: its own chunk and CSS, which imports this (the entry) chunk back.
const About = lazy(() => import("./routes/About.jsx"));

function useHash() {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return hash;
}

export const siteName = "assetc realworld";

export default function App() {
  const hash = useHash();
  return (
    <main>
      <img src={logo} className="logo" alt="logo" />
      <h1>{siteName}</h1>
      <nav>
        <a href="#/">Home</a> <a href="#/about">About</a>
      </nav>
      {hash === "#/about" ? (
        <Suspense fallback={<p>Loading…</p>}>
          <About />
        </Suspense>
      ) : (
        <p id="home">Home page</p>
      )}
    </main>
  );
}
