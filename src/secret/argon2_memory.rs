//! Argon2 with its working memory (19 MiB per run) in an anonymous mapping of its own, handed
//! back to the kernel when the run ends. Through the global allocator that memory stayed in
//! the freeing thread's heap until the thread exited, so a crowd of logins left the process
//! tens of megabytes larger for a while; mapped and unmapped here, the resident size returns
//! to where it was as soon as each run is done.

use std::ptr::NonNull;

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// The most memory a stored hash may ask for (a corrupt record must not take the machine).
const MAX_BLOCKS: usize = 256 * 1024;

/// Zeroed, page-aligned argon2 blocks in a private anonymous mapping, unmapped on drop.
struct Arena {
    blocks: NonNull<Block>,
    len: usize,
}

impl Arena {
    fn new(len: usize) -> Option<Arena> {
        let bytes = len.checked_mul(Block::SIZE)?;
        // SAFETY: a fresh private anonymous mapping; no existing memory is touched.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        NonNull::new(ptr.cast::<Block>()).map(|blocks| Arena { blocks, len })
    }
}

impl AsMut<[Block]> for Arena {
    fn as_mut(&mut self) -> &mut [Block] {
        // SAFETY: the mapping is `len` blocks long, page-aligned (Block needs 64), zero-filled
        // by the kernel (all-zero words are a valid Block) and only reachable through `self`.
        unsafe { std::slice::from_raw_parts_mut(self.blocks.as_ptr(), self.len) }
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`, after its last use.
        unsafe {
            libc::munmap(self.blocks.as_ptr().cast(), self.len * Block::SIZE);
        }
    }
}

/// Runs argon2 into `out` with the working memory in an [`Arena`].
fn run(
    (algorithm, version, params): (Algorithm, Version, Params),
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Option<()> {
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        return None;
    }
    let arena = Arena::new(blocks)?;
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, out, arena)
        .ok()
}

/// A PHC string of `password` hashed with `params` (argon2id, version 0x13) and a random salt.
pub fn hash(password: &[u8], params: Params) -> Option<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).ok()?;
    let salt = Salt::from(&salt);
    let mut raw = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut raw).ok()?;
    let mut out = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    let algorithm = Algorithm::Argon2id;
    run(
        (algorithm, Version::V0x13, params.clone()),
        password,
        salt_bytes,
        &mut out,
    )?;
    let phc = PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).ok()?,
        salt: Some(salt),
        hash: Some(Output::new(&out).ok()?),
    };
    Some(phc.to_string())
}

/// Whether `password` matches the PHC string `phc` (with the parameters it names); the
/// comparison is constant-time.
pub fn verify(password: &[u8], phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let setup = (|| {
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = parsed
            .version
            .map_or(Ok(Version::V0x13), Version::try_from)
            .ok()?;
        let params = Params::try_from(&parsed).ok()?;
        Some((algorithm, version, params))
    })();
    let Some(setup) = setup else {
        return false;
    };
    let mut raw = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut raw) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    run(setup, password, salt_bytes, &mut out).is_some()
        && super::constant_time_eq(&out, expected.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordHasher;

    fn small() -> Params {
        Params::new(64, 1, 1, None).unwrap()
    }

    #[test]
    fn hashes_verify_both_ways_with_the_argon2_crate() {
        let ours = hash(b"clave de prueba larga", small()).unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(verify(b"clave de prueba larga", &ours));
        assert!(!verify(b"clave de prueba largo", &ours));
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, small())
            .hash_password(b"otra clave", &salt)
            .unwrap()
            .to_string();
        assert!(verify(b"otra clave", &theirs));
        assert!(!verify(b"otra", &theirs));
        assert!(!verify(b"x", "not a phc string"));
    }
}
