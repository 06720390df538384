//! Looking at a page as a person would: headless Chromium (Debian's `chromium`) takes a
//! screenshot of a local file, and the PNG's pixels are counted by colour.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "chromium";

/// A screenshot still not written after this long means Chromium hangs.
const SCREENSHOT_DEADLINE: Duration = Duration::from_secs(90);

/// Decoded RGBA pixels of a screenshot.
pub struct Screenshot {
    pub width: u32,
    pub height: u32,
    rgba: Vec<u8>,
}

/// Screenshots `page` (a local file) at `size` into `png` with a fresh profile, and decodes
/// it. The flags keep Chromium off the network, which this machine closes.
#[track_caller]
pub fn screenshot(page: &Path, png: &Path, size: (u32, u32)) -> Screenshot {
    let profile = tempfile::Builder::new()
        .prefix("pullover-chromium-")
        .tempdir()
        .unwrap_or_else(|err| panic!("cannot create a Chromium profile folder: {err}"));
    let started = Instant::now();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={},{}", size.0, size.1))
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {CHROMIUM}: {err}"));
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > SCREENSHOT_DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{CHROMIUM} took more than {SCREENSHOT_DEADLINE:?} to screenshot {}",
                    page.display()
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(err) => panic!("cannot wait for {CHROMIUM}: {err}"),
        }
    }
    let output = child
        .wait_with_output()
        .unwrap_or_else(|err| panic!("cannot read {CHROMIUM}'s output: {err}"));
    assert!(
        output.status.success() && png.is_file(),
        "{CHROMIUM} wrote no screenshot of {} ({}):\n{}",
        page.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("screenshot of {} in {:?}", page.display(), started.elapsed());
    decode(png)
}

#[track_caller]
pub fn decode(png: &Path) -> Screenshot {
    let file = std::fs::File::open(png).unwrap_or_else(|err| panic!("cannot open {}: {err}", png.display()));
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder
        .read_info()
        .unwrap_or_else(|err| panic!("{} is not a PNG: {err}", png.display()));
    let size = reader
        .output_buffer_size()
        .unwrap_or_else(|| panic!("{} is too large to decode", png.display()));
    let mut buffer = vec![0; size];
    let info = reader
        .next_frame(&mut buffer)
        .unwrap_or_else(|err| panic!("cannot decode {}: {err}", png.display()));
    let pixels = (info.width * info.height) as usize;
    let rgba = match info.color_type {
        png::ColorType::Rgba => buffer[..pixels * 4].to_vec(),
        png::ColorType::Rgb => buffer[..pixels * 3]
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        other => panic!("{}: unexpected colour type {other:?}", png.display()),
    };
    Screenshot {
        width: info.width,
        height: info.height,
        rgba,
    }
}

impl Screenshot {
    /// Pixels within `tolerance` of `colour` on every channel (antialiased edges blend
    /// into the background; their cores keep the colour).
    pub fn count(&self, colour: (u8, u8, u8), tolerance: u8) -> usize {
        let near = |a: u8, b: u8| a.abs_diff(b) <= tolerance;
        self.rgba
            .chunks_exact(4)
            .filter(|p| near(p[0], colour.0) && near(p[1], colour.1) && near(p[2], colour.2))
            .count()
    }
}
