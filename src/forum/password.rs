//! Password hashing with argon2id (the crate's defaults: v19, 19 MiB, 2 passes, 1 lane, the
//! OWASP recommendation).
//!
//! Each hash needs 19 MiB of working memory, so [`Hasher`] bounds them: at most as many run at
//! once as there are cores (the rest wait their turn without holding a thread), and each
//! running hash works in a memory area handed from one hash to the next while logins keep
//! coming. Two hundred logins at once then cost two areas, not two hundred. When the last
//! waiting hash is done the areas are given back to the system (see [`map_large_blocks`]), so a
//! quiet server does not hold 19 MiB per core for the next login.

use std::sync::Mutex;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::ForumError;

/// What a login that names no account is checked against, so that it costs the same as a wrong
/// password: a well-formed argon2id hash with our parameters (random salt and output, made once
/// for this purpose; no password is known to match it).
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$swaIna9iKLnZp7myupMGyg$PaJUZfEl2ij3ZQw7rH0hrqU0+UTSVYUdidK/0M7GCI0";

/// Runs argon2id for the whole process: bounded in how many hashes run at once and in memory.
pub struct Hasher {
    permits: tokio::sync::Semaphore,
    /// Working memory areas not in use, and how many hashes are waiting or running; at most one
    /// area per permit ever exists, and none once no hash is waiting or running.
    areas: Mutex<Areas>,
}

#[derive(Default)]
struct Areas {
    free: Vec<Vec<Block>>,
    wanted: usize,
    /// Areas made since the start (each costs 19 MiB of new memory).
    made: u64,
}

/// One hash waiting or running: counted in [`Areas::wanted`] until it is dropped, finished or
/// not (a login whose client went away stops waiting).
struct Wanted<'a>(&'a Mutex<Areas>);

impl<'a> Wanted<'a> {
    fn new(areas: &'a Mutex<Areas>) -> Wanted<'a> {
        if let Ok(mut areas) = areas.lock() {
            areas.wanted += 1;
        }
        Wanted(areas)
    }

    /// A free area, or an empty one that grows as the hash needs.
    fn take(&self) -> Vec<Block> {
        let Ok(mut areas) = self.0.lock() else {
            return Vec::new();
        };
        areas.free.pop().unwrap_or_else(|| {
            areas.made += 1;
            Vec::new()
        })
    }

    /// Hands `memory` to the next hash, or frees it (and every other free area) if none wants it.
    fn give_back(self, memory: Vec<Block>) {
        if let Ok(mut areas) = self.0.lock() {
            if areas.wanted > 1 {
                areas.free.push(memory);
            } else {
                areas.free.clear();
            }
        }
    }
}

impl Drop for Wanted<'_> {
    fn drop(&mut self) {
        if let Ok(mut areas) = self.0.lock() {
            areas.wanted -= 1;
            if areas.wanted == 0 {
                areas.free.clear();
            }
        }
    }
}

/// Has glibc's malloc map every block of 4 MiB or more on its own, and unmap it when freed, so
/// that a hash's area, once freed, goes back to the system (once per process).
///
/// By default glibc raises that size to the largest block freed so far (up to 32 MiB), and the
/// size at which an arena gives free memory back to twice that. After the first area was freed,
/// each later one was carved from the arena of whichever thread hashed and kept there when freed:
/// 40 logins one after another grew a server from 87 to 296 MiB, and every thread's arena kept
/// up to 38 MiB of free memory. Smaller blocks (pages, rows, bodies) are not affected.
fn map_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        const FOUR_MIB: libc::c_int = 4 << 20;
        // SAFETY: mallopt sets one of malloc's parameters, under malloc's own lock; memory already
        // handed out is not touched, and later blocks are only placed differently.
        ONCE.call_once(|| unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, FOUR_MIB);
        });
    }
}

impl Hasher {
    /// A hasher running at most `concurrency` hashes at once (0: one per core).
    pub fn new(concurrency: usize) -> Hasher {
        map_large_blocks();
        let concurrency = if concurrency == 0 {
            crate::config::cores()
        } else {
            concurrency
        };
        Hasher {
            permits: tokio::sync::Semaphore::new(concurrency),
            areas: Mutex::new(Areas::default()),
        }
    }

    /// Hashes a password into a PHC string (`$argon2id$v=19$...`), waiting for a free slot.
    pub async fn hash(&self, password: String) -> Result<String, ForumError> {
        self.run(move |memory| hash_with(&password, memory)).await?
    }

    /// Whether `password` matches `phc`, waiting for a free slot. A malformed hash never
    /// matches.
    pub async fn verify(&self, phc: String, password: String) -> bool {
        self.run(move |memory| verify_with(&phc, &password, memory))
            .await
            .unwrap_or(false)
    }

    /// Runs `f` on the blocking pool with a working memory area, once a permit is free.
    async fn run<T, F>(&self, f: F) -> Result<T, ForumError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    {
        let wanted = Wanted::new(&self.areas);
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| ForumError::Internal(format!("password hashing stopped: {e}")))?;
        let mut memory = wanted.take();
        let (result, memory) = tokio::task::spawn_blocking(move || {
            let result = f(&mut memory);
            (result, memory)
        })
        .await
        .map_err(|e| ForumError::Internal(format!("password hashing failed: {e}")))?;
        wanted.give_back(memory);
        Ok(result)
    }
}

/// Grows `memory` to at least `blocks` blocks (it is reused, so this allocates once).
fn area(memory: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    &mut memory[..blocks]
}

/// Hashes `password` with a fresh salt in `memory` (blocking).
fn hash_with(password: &str, memory: &mut Vec<Block>) -> Result<String, ForumError> {
    let failed =
        |e: &dyn std::fmt::Display| ForumError::Internal(format!("hashing a password failed: {e}"));
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|e| failed(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            &mut out,
            area(memory, params.block_count()),
        )
        .map_err(|e| failed(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(hash.to_string())
}

/// Checks `password` against the PHC string `phc` in `memory` (blocking).
fn verify_with(phc: &str, password: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let version = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from)
        .unwrap_or(Version::default());
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    if argon2
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            &mut out,
            area(memory, blocks),
        )
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|actual| actual == expected)
}

/// Hashes a password on the current thread, outside any [`Hasher`] (start-up and one-off
/// commands only).
pub fn hash(password: &str) -> Result<String, ForumError> {
    hash_with(password, &mut Vec::new())
}

/// Checks a password on the current thread, outside any [`Hasher`] (tests and one-off use).
pub fn verify(phc: &str, password: &str) -> bool {
    verify_with(phc, password, &mut Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(&h, "correct horse battery"));
        assert!(!verify(&h, "correct horse batterY"));
        assert!(!verify("not a hash", "anything"));
        // Salted: the same password hashes differently each time.
        assert_ne!(h, hash("correct horse battery").unwrap());
    }

    #[test]
    fn the_dummy_hash_is_checked_in_full() {
        // Well-formed with the parameters every stored hash has, so checking it takes as long.
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        let params = Params::try_from(&parsed).unwrap();
        let ours = Params::default();
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (ours.m_cost(), ours.t_cost(), ours.p_cost())
        );
        let mut memory = Vec::new();
        assert!(!verify_with(DUMMY_HASH, "anything at all", &mut memory));
        // The full computation ran: the memory area was filled to the parameters' size.
        assert_eq!(memory.len(), Params::default().block_count());
    }

    #[test]
    fn hashes_made_by_the_argon2_crate_verify_here_and_back() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::default()
            .hash_password(b"a long password", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify(&theirs, "a long password"));
        assert!(!verify(&theirs, "a long passworD"));
        let ours = hash("a long password").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"a long password", &parsed)
            .is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_hasher_reuses_its_memory_while_busy_and_frees_it_when_idle() {
        let hasher = std::sync::Arc::new(Hasher::new(2));
        let phc = hasher.hash("a long password".into()).await.unwrap();
        // Alone, the hash freed its area when it was done.
        assert!(hasher.areas.lock().unwrap().free.is_empty());
        // Eight checks queue behind the two permits, held here until all eight wait.
        let held = hasher.permits.acquire_many(2).await.unwrap();
        let checks: Vec<_> = (0..8)
            .map(|i| {
                let hasher = hasher.clone();
                let phc = phc.clone();
                tokio::spawn(async move {
                    hasher
                        .verify(
                            phc,
                            if i % 2 == 0 {
                                "a long password"
                            } else {
                                "nope"
                            }
                            .into(),
                        )
                        .await
                })
            })
            .collect();
        while hasher.areas.lock().unwrap().wanted < 8 {
            tokio::task::yield_now().await;
        }
        let made_before = hasher.areas.lock().unwrap().made;
        drop(held);
        let mut matched = 0;
        for check in checks {
            matched += usize::from(check.await.unwrap());
        }
        assert_eq!(matched, 4);
        let areas = hasher.areas.lock().unwrap();
        // One area per permit, handed from check to check: eight checks made two.
        assert_eq!(areas.made - made_before, 2);
        // Nobody waits any more: nothing is kept.
        assert_eq!(areas.wanted, 0);
        assert!(areas.free.is_empty());
    }
}
