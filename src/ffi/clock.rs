//! A manual clock, for tests and simulations on both halves: a platform and
//! a client made with the same clock see the same time.

use super::{
    arg_out, arg_ref, confkit_error, confkit_status, free_raw, guard, guard_or, into_raw, write_out,
};
use crate::clock::ManualClock;

/// A clock that moves only when told, for tests and simulations.
pub struct confkit_clock {
    clock: ManualClock,
}

impl confkit_clock {
    /// The same clock (setting either moves both).
    pub(crate) fn shared(&self) -> ManualClock {
        self.clock.clone()
    }
}

/// Creates a manual clock showing `now` (seconds since the Unix epoch).
#[no_mangle]
pub unsafe extern "C" fn confkit_clock_new(
    now: u64,
    clock_out: *mut *mut confkit_clock,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        let out = arg_out(clock_out, "clock_out")?;
        write_out(
            out,
            into_raw(confkit_clock {
                clock: ManualClock::new(now),
            }),
        );
        Ok(())
    })
}

/// Sets the clock's time.
#[no_mangle]
pub unsafe extern "C" fn confkit_clock_set(
    clock: *const confkit_clock,
    now: u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live clock.
        unsafe { arg_ref(clock, "clock") }?.clock.set(now);
        Ok(())
    })
}

/// Moves the clock forward by `secs`.
#[no_mangle]
pub unsafe extern "C" fn confkit_clock_advance(
    clock: *const confkit_clock,
    secs: u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live clock.
        unsafe { arg_ref(clock, "clock") }?.clock.advance(secs);
        Ok(())
    })
}

/// The clock's time; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn confkit_clock_now(clock: *const confkit_clock) -> u64 {
    guard_or(0, || {
        // SAFETY: the caller passes NULL or a live clock.
        unsafe { clock.as_ref() }.map_or(0, |c| c.clock.now())
    })
}

/// Frees a clock. Platforms using it keep their own reference. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn confkit_clock_free(clock: *mut confkit_clock) {
    // SAFETY: the caller passes NULL or a clock from confkit, once.
    guard_or((), || unsafe { free_raw(clock) })
}
