//! `examples/site.rs` in a real browser: headless Chromium (Debian's `chromium`, installed by
//! `bash .ci/install-test-deps`) driven over the DevTools protocol by `headless_chrome`. It
//! loads the home page, follows a link, signs the guestbook through its form and sees the
//! entry rendered, and saves screenshots under `target/screenshots/` for people to look at.
//! A browser that cannot start fails the test with what to install; it is never skipped.

use std::path::{Path, PathBuf};
use std::time::Duration;

use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};

#[path = "../examples/site.rs"]
#[allow(dead_code)]
mod site;

mod common;
use common::*;

/// Debian's Chromium, or the one `CHROME` names.
fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.is_file(),
        "no browser at {}: install Debian's chromium and chromium-driver (`bash .ci/install-test-deps` does), or set CHROME to a Chromium binary",
        path.display()
    );
    path
}

fn browser() -> Browser {
    let options = LaunchOptions::default_builder()
        .path(Some(chromium()))
        .headless(true)
        // Containers and CI run as root, where Chromium's sandbox cannot start.
        .sandbox(false)
        .window_size(Some((1100, 900)))
        .idle_browser_timeout(Duration::from_secs(60))
        .build()
        .expect("launch options");
    Browser::new(options).unwrap_or_else(|e| {
        panic!("Chromium did not start ({e}): install Debian's chromium and chromium-driver (`bash .ci/install-test-deps`)")
    })
}

/// Saves what `tab` shows as `target/screenshots/NAME.png` and returns the path.
fn screenshot(tab: &Tab, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    path
}

#[test]
fn the_site_in_a_real_browser() {
    let mut server = start(site::app().unwrap(), |b| b);
    let base = format!("http://{}", server.addr);
    let browser = browser();
    let tab = browser.new_tab().expect("a tab");

    // The home page, styled by its stylesheet.
    tab.navigate_to(&format!("{base}/"))
        .and_then(|t| t.wait_until_navigated())
        .expect("home page");
    let title = tab.get_title().unwrap();
    assert_eq!(title, "Home · gateway");
    let heading = tab.find_element("h1").unwrap().get_inner_text().unwrap();
    assert_eq!(heading, "Welcome");
    let color = tab
        .evaluate(
            "getComputedStyle(document.querySelector('header .brand')).color",
            false,
        )
        .unwrap()
        .value
        .unwrap();
    assert_eq!(color, "rgb(11, 110, 79)", "the stylesheet applies");
    screenshot(&tab, "site-home");

    // Follow a link.
    tab.find_element("a[href='/hello/Ada?greeting=Good+evening']")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_for_element("h1").unwrap();
    wait_for(IO_TIMEOUT, || tab.get_url().contains("/hello/Ada"));
    let greeting = tab.find_element("h1").unwrap().get_inner_text().unwrap();
    assert_eq!(greeting, "Good evening, Ada!");

    // The guestbook: a bad submission first (the browser's own `required` check is removed
    // so the server's validation is what answers), then a good one.
    tab.navigate_to(&format!("{base}/guestbook/"))
        .and_then(|t| t.wait_until_navigated())
        .unwrap();
    tab.evaluate(
        "document.querySelectorAll('[required]').forEach(e => e.removeAttribute('required'))",
        false,
    )
    .unwrap();
    tab.find_element("button[type=submit]")
        .unwrap()
        .click()
        .unwrap();
    let errors = tab
        .wait_for_element("ul.errors")
        .unwrap()
        .get_inner_text()
        .unwrap();
    assert!(errors.contains("Please give your name."), "{errors}");

    tab.find_element("input[name=name]")
        .unwrap()
        .type_into("Grace <Hopper>")
        .unwrap();
    tab.find_element("textarea[name=message]")
        .unwrap()
        .type_into("Signed from a real browser & headless.")
        .unwrap();
    tab.find_element("button[type=submit]")
        .unwrap()
        .click()
        .unwrap();
    let entry = tab
        .wait_for_element("ol.entries li")
        .unwrap()
        .get_inner_text()
        .unwrap();
    assert_eq!(
        entry,
        "Grace <Hopper>: Signed from a real browser & headless."
    );
    assert!(
        tab.get_url().ends_with("/guestbook/"),
        "post/redirect/get: {}",
        tab.get_url()
    );
    let shot = screenshot(&tab, "site-guestbook");
    eprintln!("screenshots in {}", shot.parent().unwrap().display());
    server.stop();
}
