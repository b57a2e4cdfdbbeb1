//! Every `extern "C"` function in `src/ffi` runs its body inside the panic
//! guard (`guard(` or `guard_or(`) as its first statement, and the guard turns
//! a panic into `CONFKIT_STATUS_PANIC` with an error object.

use std::ffi::CStr;
use std::path::Path;

/// The body of each `extern "C" fn` in `source`, by function name.
fn extern_fns(source: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(pos) = rest.find("extern \"C\" fn ") {
        let after = &rest[pos + "extern \"C\" fn ".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // The body starts at the first `{` after the parameter list's closing `)`.
        let Some(open) = params_end(after).and_then(|p| after[p..].find('{').map(|b| p + b)) else {
            break;
        };
        let body = &after[open + 1..];
        let first_stmt: String = body
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
            .take(1)
            .collect();
        out.push((name, first_stmt));
        rest = &after[open..];
    }
    out
}

/// The index just past the `)` that closes the first `(` in `s`.
fn params_end(s: &str) -> Option<usize> {
    let start = s.find('(')?;
    let mut depth = 0;
    for (i, c) in s[start..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(start + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

#[test]
fn every_extern_fn_is_guarded() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi");
    let mut checked = 0;
    let mut unguarded = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("src/ffi exists") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).expect("readable");
            for (name, first) in extern_fns(&source) {
                // Callback typedefs (`extern "C" fn(` in a type) have no name.
                if name.is_empty() {
                    continue;
                }
                checked += 1;
                if !(first.starts_with("guard(") || first.starts_with("guard_or(")) {
                    unguarded.push(format!("{}: {name} starts with `{first}`", path.display()));
                }
            }
        }
    }
    assert!(
        unguarded.is_empty(),
        "unguarded exports:\n{}",
        unguarded.join("\n")
    );
    assert!(checked >= 60, "found only {checked} exported functions");
}

#[test]
fn the_guard_check_catches_an_unguarded_function() {
    let src = r#"
        pub extern "C" fn confkit_good() -> u32 { guard_or(0, || 1) }
        pub unsafe extern "C" fn confkit_bad(x: *const u8) -> i32 {
            let y = 1;
            guard(e, || Ok(()))
        }
    "#;
    let fns = extern_fns(src);
    assert_eq!(fns.len(), 2);
    assert!(fns[0].1.starts_with("guard_or("));
    assert!(!fns[1].1.starts_with("guard"));
}

#[test]
fn a_panic_becomes_the_panic_status_with_an_error() {
    let mut err: *mut confkit::ffi::confkit_error = std::ptr::null_mut();
    // SAFETY: a valid out-pointer for the error.
    let status = unsafe { confkit::ffi::confkit_test_panic(&mut err) };
    assert_eq!(status, confkit::ffi::CONFKIT_STATUS_PANIC);
    assert!(!err.is_null());
    // SAFETY: `err` is a live error from confkit.
    unsafe {
        assert_eq!(
            confkit::ffi::confkit_error_code(err),
            confkit::ffi::CONFKIT_STATUS_PANIC
        );
        let msg = CStr::from_ptr(confkit::ffi::confkit_error_message(err));
        assert!(msg.to_str().unwrap().contains("confkit_test_panic called"));
        confkit::ffi::confkit_error_free(err);
    }
    // Without an error out-parameter the status still comes back.
    // SAFETY: NULL error_out is allowed.
    assert_eq!(
        unsafe { confkit::ffi::confkit_test_panic(std::ptr::null_mut()) },
        confkit::ffi::CONFKIT_STATUS_PANIC
    );
}
