//! The one way pullover spreads independent work (a file each) over the machine's cores.

/// `work` over `items` on every core (in as many contiguous parts), results in item order. Each
/// item is dropped once its work is done.
pub fn map_in_parallel<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if cores < 2 || items.len() < 2 {
        return items.into_iter().map(work).collect();
    }
    let part = items.len().div_ceil(cores);
    let mut parts: Vec<Vec<T>> = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        parts.push(items.by_ref().take(part).collect());
    }
    let work = &work;
    std::thread::scope(|scope| {
        let workers: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(move || part.into_iter().map(work).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

/// One malloc arena for the whole process (glibc; elsewhere nothing to do). The workers of
/// [`map_in_parallel`] build what a stack keeps (every dashboard's scan) and free far more
/// (parse trees); with glibc's arena per thread that freed memory stays mapped where the main
/// thread cannot reuse it, and the plan benchmark's peak RSS grew by a sixth. The workers
/// parse more than they allocate, so sharing one arena costs no measurable time.
pub fn share_one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called first thing in `main`,
    // before any thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
