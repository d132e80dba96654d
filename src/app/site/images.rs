//! The photo pipeline: a JPEG, PNG or WebP upload is checked (format by its magic bytes,
//! dimensions read from the header before anything is decoded), decoded under allocation
//! limits, turned upright by its EXIF orientation, flattened onto white, scaled to a few
//! widths and re-encoded. Re-encoding writes pixels only: EXIF (GPS included), XMP and ICC
//! metadata of the upload never reach a guest. JPEG at every width; WebP (lossless, the only
//! WebP the pure-Rust encoder makes) is kept only where it came out smaller than the JPEG,
//! which happens for drawings and screenshots, rarely for photographs.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use crate::domain::content::{Photo, PhotoFormat, PhotoVariant};
use crate::secret::sha256_hex_bytes;
use crate::store::NewMedia;

/// Widths made for `srcset` (never wider than the upload).
pub const WIDTHS: [u32; 3] = [480, 960, 1600];
/// No side may be longer than this, whatever the pixel budget.
const MAX_SIDE: u32 = 20_000;
const JPEG_QUALITY: u8 = 80;

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("only JPEG, PNG and WebP images are accepted")]
    Unsupported,
    #[error("the image is {width}×{height} pixels, more than the {max} allowed")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("the image could not be decoded: {0}")]
    Undecodable(String),
}

/// A processed upload: the photo's description and the renditions to store.
#[derive(Debug)]
pub struct Processed {
    pub photo: Photo,
    pub media: Vec<NewMedia>,
}

fn format_of(bytes: &[u8]) -> Result<ImageFormat, ImageError> {
    match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => Ok(f),
        _ => Err(ImageError::Unsupported),
    }
}

fn undecodable(e: image::ImageError) -> ImageError {
    ImageError::Undecodable(e.to_string())
}

/// Decodes `bytes` if its header promises at most `max_pixels` pixels, upright.
fn decode(bytes: &[u8], max_pixels: u64) -> Result<DynamicImage, ImageError> {
    let format = format_of(bytes)?;
    let mut header = ImageReader::with_format(Cursor::new(bytes), format);
    // Only the header is read here; the limits below apply to decoding.
    header.no_limits();
    let (width, height) = header.into_dimensions().map_err(undecodable)?;
    if u64::from(width) * u64::from(height) > max_pixels || width > MAX_SIDE || height > MAX_SIDE {
        return Err(ImageError::TooManyPixels {
            width,
            height,
            max: max_pixels,
        });
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // Four bytes a pixel (RGBA8) plus room for the decoder's own buffers.
    limits.max_alloc = Some(max_pixels * 4 + 64 * 1024 * 1024);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(undecodable)?;
    let orientation = decoder.orientation().map_err(undecodable)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(undecodable)?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// RGB pixels, transparent areas on white.
fn flatten(img: DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.into_rgb8();
    }
    let rgba = img.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u16::from(p[3]);
        let blend = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        image::Rgb([blend(p[0]), blend(p[1]), blend(p[2])])
    })
}

fn encode_jpeg(img: &RgbImage) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(img)
        .map_err(undecodable)?;
    Ok(out)
}

fn encode_webp(img: &RgbImage) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out)
        .encode(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .ok()?;
    Some(out)
}

fn variant(img: &RgbImage, format: PhotoFormat, bytes: Vec<u8>) -> (PhotoVariant, NewMedia) {
    let key = format!("{}.{}", &sha256_hex_bytes(&bytes)[..32], format.extension());
    (
        PhotoVariant {
            width: img.width(),
            height: img.height(),
            format,
            key: key.clone(),
            bytes: bytes.len() as u64,
        },
        NewMedia { key, bytes },
    )
}

/// The widths to make for an image `width` pixels wide.
fn widths_for(width: u32) -> Vec<u32> {
    let mut out: Vec<u32> = WIDTHS.iter().copied().filter(|w| *w < width).collect();
    if out.len() < WIDTHS.len() {
        out.push(width.min(WIDTHS[WIDTHS.len() - 1]));
    }
    out
}

/// Checks, decodes and re-encodes an upload (CPU-bound: run it in `spawn_blocking`).
pub fn process(bytes: &[u8], max_pixels: u64, alt: String) -> Result<Processed, ImageError> {
    let img = flatten(decode(bytes, max_pixels)?);
    let (width, height) = (img.width(), img.height());
    let scaled = |w: u32| {
        (
            w,
            ((u64::from(height) * u64::from(w)) / u64::from(width)).max(1) as u32,
        )
    };
    let widths = widths_for(width);
    // One fast area-averaging pass from the full size to the largest width, then
    // high-quality resampling from there for the smaller ones.
    let largest = *widths.last().expect("at least one width");
    let (lw, lh) = scaled(largest);
    let top = if lw == width {
        img
    } else {
        image::imageops::thumbnail(&img, lw, lh)
    };
    let mut media = Vec::new();
    let mut variants = Vec::new();
    let mut webp_pays = true;
    for w in widths {
        let (w, h) = scaled(w);
        let sized = if w == top.width() {
            top.clone()
        } else {
            image::imageops::resize(&top, w, h, FilterType::CatmullRom)
        };
        let jpeg = encode_jpeg(&sized)?;
        let jpeg_len = jpeg.len();
        let (v, m) = variant(&sized, PhotoFormat::Jpeg, jpeg);
        variants.push(v);
        media.push(m);
        if webp_pays {
            match encode_webp(&sized).filter(|webp| webp.len() < jpeg_len) {
                Some(webp) => {
                    let (v, m) = variant(&sized, PhotoFormat::Webp, webp);
                    variants.push(v);
                    media.push(m);
                }
                // A photograph: lossless WebP will not beat JPEG at larger widths either.
                None => webp_pays = false,
            }
        }
    }
    let largest_jpeg = variants
        .iter()
        .rev()
        .find(|v| v.format == PhotoFormat::Jpeg)
        .expect("a JPEG at every width");
    let photo = Photo {
        id: largest_jpeg.key.split('.').next().unwrap_or_default()[..16].to_owned(),
        alt,
        width: largest_jpeg.width,
        height: largest_jpeg.height,
        variants,
    };
    Ok(Processed { photo, media })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 251) as u8])
        });
        encode_jpeg(&img).unwrap()
    }

    #[test]
    fn makes_every_width_up_to_the_upload_and_no_wider() {
        let p = process(&jpeg(1200, 800), 50_000_000, "Frente".into()).unwrap();
        let widths: Vec<u32> = p.photo.jpegs().map(|v| v.width).collect();
        assert_eq!(widths, vec![480, 960, 1200]);
        assert_eq!(p.photo.jpegs().last().unwrap().height, 800);
        assert!(
            p.media
                .iter()
                .all(|m| m.bytes.starts_with(&[0xFF, 0xD8]) || m.bytes.starts_with(b"RIFF"))
        );
        let small = process(&jpeg(300, 200), 50_000_000, String::new()).unwrap();
        assert_eq!(small.photo.jpegs().count(), 1);
    }

    #[test]
    fn refuses_what_is_not_an_image_or_too_big_before_decoding() {
        assert_eq!(
            process(b"GIF89a....", 50_000_000, String::new()).unwrap_err(),
            ImageError::Unsupported
        );
        assert!(matches!(
            process(&jpeg(2000, 1000), 1_000_000, String::new()).unwrap_err(),
            ImageError::TooManyPixels {
                width: 2000,
                height: 1000,
                ..
            }
        ));
        let mut truncated = jpeg(600, 400);
        truncated.truncate(200);
        assert!(matches!(
            process(&truncated, 50_000_000, String::new()).unwrap_err(),
            ImageError::Undecodable(_)
        ));
    }

    #[test]
    fn drawings_get_a_smaller_webp() {
        let flat = RgbImage::from_fn(800, 600, |x, _| {
            if x < 400 {
                image::Rgb([200, 30, 30])
            } else {
                image::Rgb([255, 255, 255])
            }
        });
        let mut png = Vec::new();
        DynamicImage::ImageRgb8(flat)
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let p = process(&png, 50_000_000, String::new()).unwrap();
        assert!(p.photo.webps().count() >= 1);
    }
}
