//! Giving memory back to the system after a large, short-lived job (decoding a 12 MP photo
//! takes ~80 MB for a moment). The allocator (mimalloc) otherwise keeps freed pages of an idle
//! thread until that thread allocates again, so the process would stay at its peak.

/// Returns the calling thread's freed memory, and the process's, to the system at once.
pub fn release_freed() {
    // SAFETY: `mi_collect` takes no pointers and only frees memory no allocation uses; it is
    // safe to call from any thread at any time (a no-op for memory of another allocator).
    unsafe { libmimalloc_sys::mi_collect(true) }
}
