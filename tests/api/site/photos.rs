//! Photos: re-encoded at a few widths with no metadata left, served immutable by content
//! hash; too big, bombs and other formats refused; alt text escaped; and the first visit's
//! byte budget.

use image::{ImageEncoder, RgbImage};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{set_content, slug};
use crate::helpers::{TestApp, body};

const SECRET: &[u8] = b"GPS-SECRET -41.1335,-71.3103";

/// A photo-like JPEG `w`×`h`.
fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x / 7 % 256) as u8,
            (y / 5 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// `jpeg` with an EXIF block (APP1) holding a GPS IFD and a description naming the place.
fn with_gps_exif(jpeg: &[u8]) -> Vec<u8> {
    let mut tiff = b"MM\0\x2A\0\0\0\x08".to_vec();
    let entry = |tag: u16, kind: u16, count: u32, value: u32| {
        [
            tag.to_be_bytes().as_slice(),
            &kind.to_be_bytes(),
            &count.to_be_bytes(),
            &value.to_be_bytes(),
        ]
        .concat()
    };
    // IFD0 at 8: ImageDescription (-> 56) and the GPS IFD pointer (-> 38).
    tiff.extend(2u16.to_be_bytes());
    tiff.extend(entry(0x010E, 2, SECRET.len() as u32 + 1, 56));
    tiff.extend(entry(0x8825, 4, 1, 38));
    tiff.extend(0u32.to_be_bytes());
    // GPS IFD at 38: GPSLatitudeRef "S".
    tiff.extend(1u16.to_be_bytes());
    tiff.extend([0x00, 0x01, 0x00, 0x02, 0, 0, 0, 2, b'S', 0, 0, 0]);
    tiff.extend(0u32.to_be_bytes());
    assert_eq!(tiff.len(), 56);
    tiff.extend(SECRET);
    tiff.push(0);
    let payload = [b"Exif\0\0".as_slice(), &tiff].concat();
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(((payload.len() + 2) as u16).to_be_bytes());
    out.extend(payload);
    out.extend(&jpeg[2..]);
    out
}

/// A decompression bomb: a PNG claiming `w`×`h` pixels whose image data is a little zlib
/// stream of zeros that would inflate to gigabytes.
fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    use std::io::Write;
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        [
            &(data.len() as u32).to_be_bytes(),
            kind,
            data,
            &crc.sum().to_be_bytes(),
        ]
        .concat()
    };
    let ihdr = [
        w.to_be_bytes().as_slice(),
        &h.to_be_bytes(),
        &[8, 2, 0, 0, 0],
    ]
    .concat();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![0; 4 * 1024 * 1024]).unwrap();
    let idat = z.finish().unwrap();
    [
        b"\x89PNG\r\n\x1a\n".as_slice(),
        &chunk(b"IHDR", &ihdr),
        &chunk(b"IDAT", &idat),
        &chunk(b"IEND", &[]),
    ]
    .concat()
}

async fn upload(app: &TestApp, id: u64, bytes: Vec<u8>, alt: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/admin/accommodations/{id}/photos")))
        .query(&[("alt", alt)])
        .bearer_auth(&app.admin_token)
        .header("content-type", "image/jpeg")
        .body(bytes)
        .send()
        .await
        .unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn photos_are_reencoded_without_metadata_and_served_immutable() {
    let app = TestApp::spawn_with(|raw| {
        raw.server.public_base_url = "https://reservas.example.com.ar".into()
    })
    .await;
    let id = app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    let original = with_gps_exif(&jpeg(2000, 1500));
    assert!(contains(&original, SECRET) && contains(&original, b"Exif"));
    let r = upload(
        &app,
        id,
        original,
        "Vista del lago <script>alert(1)</script>",
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let photo: Value = r.json().await.unwrap();
    let widths: Vec<u64> = photo["variants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["format"] == "jpeg")
        .map(|v| v["width"].as_u64().unwrap())
        .collect();
    assert_eq!(widths, vec![480, 960, 1600]);
    for v in photo["variants"].as_array().unwrap() {
        let r = app
            .get(&format!("/media/{}", v["key"].as_str().unwrap()))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let bytes = r.bytes().await.unwrap();
        assert!(
            !contains(&bytes, b"Exif") && !contains(&bytes, SECRET) && !contains(&bytes, b"GPS"),
            "metadata left in {}",
            v["key"]
        );
    }
    let html = app
        .get(&format!("/alojamientos/{}", slug(&app, id).await))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("srcset=\"/media/") && html.contains(" 480w, /media/"));
    assert!(
        html.contains("alt=\"Vista del lago &lt;script&gt;")
            || html.contains("alt=\"Vista del lago &#60;script&#62;")
    );
    assert!(
        html.contains(
            "<meta property=\"og:image\" content=\"https://reservas.example.com.ar/media/"
        )
    );
    assert_eq!(
        app.get("/media/0123456789abcdef0123456789abcdef.jpg")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/media/..%2Fsecret").await.status(),
        StatusCode::NOT_FOUND
    );

    // A second photo goes first; then the first one is removed with its renditions.
    let second: Value = upload(&app, id, jpeg(800, 600), "Dormitorio")
        .await
        .json()
        .await
        .unwrap();
    let pid = photo["id"].as_str().unwrap();
    let moved = app
        .client
        .put(app.url(&format!(
            "/api/v1/admin/accommodations/{id}/photos/{}",
            second["id"].as_str().unwrap()
        )))
        .bearer_auth(&app.admin_token)
        .json(&json!({"position": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(body(moved).await["photos"][0]["alt"], "Dormitorio");
    let removed = app
        .client
        .delete(app.url(&format!("/api/v1/admin/accommodations/{id}/photos/{pid}")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(body(removed).await["photos"].as_array().unwrap().len(), 1);
    let gone = photo["variants"][0]["key"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/media/{gone}")).await.status(),
        StatusCode::NOT_FOUND
    );
    // Content saved later keeps the photos.
    let r = set_content(&app, id, json!({"slug": "lago", "amenities": ["pileta"]})).await;
    assert_eq!(body(r).await["photos"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn too_big_bombs_and_other_formats_are_refused() {
    let app = TestApp::spawn_with(|raw| raw.site.photo_max_bytes = 65_536).await;
    let id = app.accommodation(json!({})).await;
    let r = upload(&app, id, vec![0xAB; 100_000], "").await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body(r).await["error"], "photo_too_large");
    let r = upload(&app, id, png_bomb(100_000, 100_000), "").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body(r).await["error"], "image_too_large");
    let r = upload(&app, id, b"GIF89a\x01\x00\x01\x00".to_vec(), "").await;
    assert_eq!(body(r).await["error"], "unsupported_image");
    let mut broken = jpeg(400, 300);
    broken.truncate(300);
    let r = upload(&app, id, broken, "").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body(r).await["error"], "invalid_image");
    assert_eq!(
        upload(&app, 999, jpeg(100, 100), "").await.status(),
        StatusCode::NOT_FOUND
    );
    // The server is fine afterwards.
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_first_visit_transfers_under_50_kb_before_images() {
    let app = TestApp::spawn().await;
    for name in [
        "Cabaña del Bosque",
        "Cabaña del Lago",
        "Departamento Centro",
    ] {
        let id = app.accommodation(json!({"name": name, "description": "Cabaña de madera entre los coihues, con hogar a leña y deck con vista al lago. ".repeat(8)})).await;
        set_content(&app, id, json!({"slug": alojamientos::domain::content::slugify(name), "amenities": ["wifi", "parrilla", "pileta", "cochera"], "house_rules": "No se permiten fiestas."})).await;
    }
    let mut total = 0;
    for path in ["/", "/alojamientos/cabana-del-lago"] {
        let page = app
            .client
            .get(app.url(path))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(page.headers()["content-encoding"], "gzip");
        let html = page.bytes().await.unwrap();
        let text = String::from_utf8_lossy(&flate2_decode(&html)).into_owned();
        let mut bytes = html.len();
        for asset in ["text/css", "text/javascript"] {
            let marker = if asset == "text/css" {
                "rel=\"stylesheet\" href=\""
            } else {
                "<script src=\""
            };
            let start = text.find(marker).unwrap() + marker.len();
            let url = &text[start..start + text[start..].find('"').unwrap()];
            let r = app
                .client
                .get(app.url(url))
                .header("accept-encoding", "gzip")
                .send()
                .await
                .unwrap();
            bytes += r.bytes().await.unwrap().len();
        }
        assert!(bytes <= 50 * 1024, "{path}: {bytes} bytes before images");
        total = total.max(bytes);
    }
    eprintln!("first visit before images: {total} bytes compressed");
}

fn flate2_decode(gz: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut out)
        .unwrap();
    out
}
