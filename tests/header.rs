//! The committed C header must be exactly what cbindgen generates from
//! `src/ffi`, and its version constants must match Cargo.toml and the library.
//!
//! Regenerate after changing the C ABI: `CONFKIT_BLESS=1 cargo test --test header`.

use std::path::Path;

fn generate() -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(Path::new(dir).join("cbindgen.toml"))
        .expect("cbindgen.toml parses");
    let bindings = cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("header is UTF-8")
}

#[test]
fn committed_header_matches_generated() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/confkit.h");
    let fresh = generate();
    if std::env::var_os("CONFKIT_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write header");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/confkit.h is stale: run `CONFKIT_BLESS=1 cargo test --test header` and commit it"
    );
}

fn define(header: &str, name: &str) -> u32 {
    let prefix = format!("#define {name} ");
    header
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{name} not in header"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn header_versions_match_cargo_and_library() {
    let header =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("include/confkit.h"))
            .expect("header exists");
    let major: u32 = env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap();
    let minor: u32 = env!("CARGO_PKG_VERSION_MINOR").parse().unwrap();
    let patch: u32 = env!("CARGO_PKG_VERSION_PATCH").parse().unwrap();
    assert_eq!(define(&header, "CONFKIT_VERSION_MAJOR"), major);
    assert_eq!(define(&header, "CONFKIT_VERSION_MINOR"), minor);
    assert_eq!(define(&header, "CONFKIT_VERSION_PATCH"), patch);
    assert_eq!(
        define(&header, "CONFKIT_ABI_VERSION"),
        confkit::ffi::confkit_abi_version()
    );
    // SAFETY: confkit_version returns a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(confkit::ffi::confkit_version()) };
    assert_eq!(
        version.to_str().unwrap(),
        format!("confkit {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn every_exported_function_is_documented_in_the_header() {
    let header = generate();
    let lines: Vec<&str> = header.lines().collect();
    let mut count = 0;
    for (i, line) in lines.iter().enumerate() {
        let is_decl = line.contains(" confkit_")
            && line.contains('(')
            && !line.starts_with("//")
            && !line.starts_with("#define")
            && !line.starts_with(' ')
            && !line.starts_with("typedef");
        if !is_decl {
            continue;
        }
        count += 1;
        let prev = i.checked_sub(1).map(|j| lines[j]).unwrap_or("");
        assert!(
            prev.trim_end().ends_with("*/"),
            "no doc comment before: {line}"
        );
    }
    assert!(count > 50, "found only {count} function declarations");
}
