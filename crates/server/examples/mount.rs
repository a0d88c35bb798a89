//! An actix-web app that mounts an assetc build at `/static` and renders its page with the
//! manifest's URLs and integrity values.
//!
//! ```sh
//! assetc build --input assets --output build --base-url /static/
//! cargo run -p assetc-server --example mount -- build 127.0.0.1:8080
//! ```

use actix_web::{web, App, HttpResponse, HttpServer};
use assetc_server::{Build, Mount, Options};

/// The app's routes: the build under `/static`, and a page that links to its assets.
pub fn configure(cfg: &mut web::ServiceConfig, assets: &Mount) {
    cfg.app_data(web::Data::new(assets.clone()))
        .service(assets.clone())
        .route("/", web::get().to(index));
}

/// A template would do this: ask the mount for each asset's URL and integrity.
async fn index(assets: web::Data<Mount>) -> HttpResponse {
    let link = |logical: &str| match (assets.url(logical), assets.integrity(logical)) {
        (Some(url), Some(sri)) => {
            format!(r#"<link rel="stylesheet" href="{url}" integrity="{sri}">"#)
        }
        _ => format!("<!-- `{logical}` is not in the build -->"),
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html>\n{}\n<h1>hello from the app</h1>\n",
            link("css/app.css")
        ))
}

#[allow(dead_code)]
fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let root = args.next().unwrap_or_else(|| "build".to_owned());
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let build = match Build::open(&root, &Options::default()) {
        Ok(build) => build,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let assets = Mount::new("/static", build);
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || App::new().configure(|cfg| configure(cfg, &assets)))
            .bind(&bind)?;
        for addr in server.addrs() {
            eprintln!("listening on http://{addr}");
        }
        server.run().await
    })
}
