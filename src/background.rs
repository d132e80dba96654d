//! Long blocking work that must not take CPU from requests (an iCal sync round's fetch and
//! parse, a backup's copy of the store, the start-up audit of every record): each runs on a
//! thread of its own whose priority is lowered for the thread's whole life. Pool threads are
//! not used for it: an unprivileged thread cannot raise its priority back, so a lowered pool
//! thread would slow later work.
//! The unit's system-call filter allows `sched_setscheduler` and `setpriority` for this.

/// How far below requests a background thread runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// The kernel's idle scheduling class (`SCHED_IDLE`; nice +10 where that is refused): runs
    /// only on CPU time requests leave over, and a waking request thread preempts it at once.
    /// Under a load that never leaves the cores idle the work waits.
    Idle,
    /// nice 19: yields to requests, yet always gets a small share of a busy machine, so work
    /// that must end (a backup, the start-up audit with its read transactions) does end.
    Lowest,
}

/// Runs `work` on a new thread called `name` at `priority`. `None` if the thread could not
/// start (logged) or the work panicked.
pub async fn run<T: Send + 'static>(
    name: &str,
    priority: Priority,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            lower_priority(priority);
            let _ = tx.send(work());
        });
    match spawned {
        Ok(_) => rx.await.ok(),
        Err(e) => {
            tracing::error!(thread = name, error = %e, "cannot start a background thread");
            None
        }
    }
}

fn lower_priority(priority: Priority) {
    // SAFETY: plain system calls on the calling thread (Linux keeps priorities per thread);
    // lowering its own scheduling class or raising its niceness never needs privileges.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        match priority {
            Priority::Idle => {
                let param = libc::sched_param { sched_priority: 0 };
                if libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) != 0 {
                    libc::setpriority(libc::PRIO_PROCESS, tid, 10);
                }
            }
            Priority::Lowest => {
                libc::setpriority(libc::PRIO_PROCESS, tid, 19);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calling thread's nice value and scheduling policy.
    fn niceness_and_policy() -> (i32, i32) {
        // SAFETY: reads of the calling thread's own attributes.
        unsafe {
            let tid = libc::gettid() as libc::id_t;
            let nice = libc::getpriority(libc::PRIO_PROCESS, tid);
            (nice, libc::sched_getscheduler(0))
        }
    }

    #[tokio::test]
    async fn work_runs_on_its_own_thread_at_the_priority_asked_and_the_caller_keeps_its_own() {
        let before = niceness_and_policy();
        let lowest = run("bg-lowest", Priority::Lowest, niceness_and_policy).await;
        assert_eq!(lowest.map(|(nice, _)| nice), Some(19));
        let idle = run("bg-idle", Priority::Idle, niceness_and_policy).await;
        let (nice, policy) = idle.unwrap();
        assert!(policy == libc::SCHED_IDLE || nice == 10, "{nice} {policy}");
        assert_eq!(niceness_and_policy(), before);
        let name = run("bg-named", Priority::Lowest, || {
            std::thread::current().name().map(str::to_owned)
        })
        .await;
        assert_eq!(name.flatten().as_deref(), Some("bg-named"));
    }

    #[tokio::test]
    async fn a_panic_in_the_work_is_none_not_a_panic_of_the_caller() {
        let out: Option<()> = run("bg-panics", Priority::Lowest, || panic!("boom")).await;
        assert_eq!(out, None);
    }
}
