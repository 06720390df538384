//! The one way pullover spreads independent work (a file each) over the machine's cores.

/// `work` over `items` on every core (in as many contiguous parts), results in item order. Each
/// item is dropped once its work is done.
pub fn map_in_parallel<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    parts_in_parallel(items, |part| part.into_iter().map(&work).collect::<Vec<R>>())
        .into_iter()
        .flatten()
        .collect()
}

/// `work` over `items` cut in contiguous parts, one per core, results in part order: for work
/// that keeps something from one item to the next (what a query already seen was found to be).
pub fn parts_in_parallel<T: Send, R: Send>(items: Vec<T>, work: impl Fn(Vec<T>) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if cores < 2 || items.len() < 2 {
        return vec![work(items)];
    }
    let part = items.len().div_ceil(cores);
    let mut parts: Vec<Vec<T>> = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        parts.push(items.by_ref().take(part).collect());
    }
    let work = &work;
    std::thread::scope(|scope| {
        let workers: Vec<_> = parts.into_iter().map(|part| scope.spawn(move || work(part))).collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}
