//! `index.html` opened in a real headless browser (Debian's `chromium`).
//!
//! The page has no script, so every request it could make is a `src`/`href`/`url()` in the
//! static file: the test parses them all and refuses any that leaves the release folder. The
//! browser is also started with every host name unresolvable, and its console log (stderr,
//! `--enable-logging=stderr`) must stay empty. A DevTools session over
//! `--remote-debugging-pipe` would list requests too, but needs a CDP client for no extra
//! certainty on a page without scripts. Where no browser is installed, the test says
//! `SKIPPED` and returns.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use regex::Regex;

use super::{artifacts, fixture_release, release};

fn chromium() -> Option<PathBuf> {
    let names = ["chromium", "chromium-browser", "google-chrome"];
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Runs the browser on a page with the given extra flags; returns stdout and stderr. Output
/// goes to files (a DOM larger than a pipe buffer would block the browser).
fn browse(browser: &Path, profile: &Path, page: &str, flags: &[String]) -> (String, String) {
    std::fs::create_dir_all(profile).expect("profile folder");
    let stdout_path = profile.join("stdout.txt");
    let stderr_path = profile.join("stderr.txt");
    let mut child = Command::new(browser)
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
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.join("data").display()
        ))
        .args(flags)
        .arg(page)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("stdout file"))
        .stderr(File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(status) = child.try_wait().expect("chromium status") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 180 s on {page}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(status.success(), "chromium failed on {page}:\n{stderr}");
    (
        std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr,
    )
}

/// Every reference the page could load or navigate to stays inside the release folder.
fn assert_no_external_reference(html: &str) {
    let attribute = Regex::new(
        r#"(?i)\s(src|href|xlink:href|action|formaction|poster|data|srcset|background|ping)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)"#,
    )
    .unwrap();
    let mut links = 0;
    for found in attribute.captures_iter(html) {
        let value = found[2].trim_matches(|c| c == '"' || c == '\'').trim();
        assert!(
            !value.contains("://") && !value.starts_with("//") && !value.contains(':'),
            "external or scheme reference `{value}` in the page"
        );
        assert!(
            value.starts_with('#') || value.starts_with("tables/"),
            "unexpected reference `{value}`"
        );
        links += 1;
    }
    assert!(links > 10, "the page links its contents and CSV files");
    let lower = html.to_ascii_lowercase();
    for forbidden in [
        "<script", "<link", "<iframe", "<img", "<object", "<embed", "<base", "@import", "url(",
    ] {
        assert!(!lower.contains(forbidden), "`{forbidden}` in the page");
    }
}

/// Every `<svg>` of the DOM has drawn marks; returns how many charts there are.
fn count_drawn_charts(dom: &str) -> usize {
    let mut charts = 0;
    for svg in dom.split("<svg").skip(1) {
        let body = svg.split("</svg>").next().unwrap_or_default();
        assert!(
            body.contains("<path") || body.contains("<rect"),
            "an empty chart: <svg{}",
            &body[..body.len().min(300)]
        );
        charts += 1;
    }
    charts
}

fn console_messages(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

#[test]
fn the_page_opens_in_a_headless_browser() {
    let Some(browser) = chromium() else {
        println!("SKIPPED: chromium not installed");
        return;
    };
    let out = tempfile::tempdir().unwrap();
    for lang in ["en", "zh"] {
        let release = release(&out.path().join(lang), &["--lang", lang]);
        let page = release.join("index.html");
        let html = std::fs::read_to_string(&page).unwrap();
        assert_no_external_reference(&html);
        let url = format!("file://{}", page.display());
        let profile = out.path().join(format!("profile-{lang}"));
        let (dom, stderr) = browse(&browser, &profile, &url, &["--dump-dom".into()]);
        assert!(
            console_messages(&stderr).is_empty(),
            "console messages:\n{}",
            console_messages(&stderr).join("\n")
        );
        // The bundled sample has every column: every chart of the suite is drawn.
        let charts: usize = dispute_stats::queries::load(&[], true)
            .unwrap()
            .iter()
            .map(|q| q.chart.len())
            .sum();
        assert!(charts >= 15, "bars, line, funnel, step and lines charts");
        assert_eq!(
            count_drawn_charts(&dom),
            charts,
            "{lang}: charts in the DOM"
        );
        assert_eq!(html.matches("<svg").count(), charts);
        let shots = artifacts();
        for (name, size) in [("top", "1280,900"), ("charts", "1280,2600")] {
            let shot = shots.join(format!("index.{lang}.{name}.png"));
            let _ = std::fs::remove_file(&shot);
            browse(
                &browser,
                &profile,
                &url,
                &[
                    format!("--window-size={size}"),
                    format!("--screenshot={}", shot.display()),
                ],
            );
            let bytes = std::fs::read(&shot).expect("screenshot written");
            assert!(
                bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
                "{}",
                shot.display()
            );
        }
    }
}

#[test]
fn markup_in_a_label_stays_text_in_the_browser() {
    let Some(browser) = chromium() else {
        println!("SKIPPED: chromium not installed");
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let release = fixture_release(&out.path().join("en"), "en");
    let page = release.join("index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert_no_external_reference(&html);
    let url = format!("file://{}", page.display());
    let (dom, stderr) = browse(
        &browser,
        &out.path().join("profile"),
        &url,
        &["--dump-dom".into()],
    );
    assert!(console_messages(&stderr).is_empty(), "{stderr}");
    assert!(
        !dom.to_ascii_lowercase().contains("<script"),
        "a label became a script"
    );
    assert!(dom.contains("&lt;script&gt;alert('x')&lt;/script&gt;&amp;amp;"));
}
