//! The Vue console, built into `web/dist` and embedded in the binary.
//! Any path that is not a file gets `index.html` (client-side routing).

use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Console;

/// Fallback handler for every path no route claims.
pub async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path.starts_with("api/") {
        // Unknown API paths answer JSON (rendered by the error middleware).
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Some(file) = Console::get(path).filter(|_| !path.is_empty()) {
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        // Vite puts content hashes in asset names, so they never change.
        let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
        return ([(header::CONTENT_TYPE, mime.as_ref()), (header::CACHE_CONTROL, cache)], file.data).into_response();
    }
    match Console::get("index.html") {
        Some(index) => {
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], index.data)
                .into_response()
        }
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The console was not built into this binary: run `make build` (npm run build in web/) and rebuild.",
        )
            .into_response(),
    }
}
