//! glibc's allocator tuned for the `kiln` command: processes that allocate tens of megabytes
//! from a few worker threads, free little of it, and exit.
//!
//! With glibc's defaults every 4 KiB page a link touches costs a page fault, and the threads
//! contend for the address-space lock as their heaps grow: for a link of 400 objects, 14,000
//! faults and 42% of the CPU time in the kernel. Here the heaps are backed by 2 MiB huge
//! pages instead (a few hundred faults; BENCHMARKS.md has the figures):
//! - [`tune`], before the workers start: heaps grow by 16 MiB, and glibc serves every block
//!   below 32 MiB from its heaps instead of giving it a mapping of its own (which would miss
//!   the huge pages);
//! - [`on_worker_start`], on each worker as it starts: the heap glibc gives the thread (a
//!   64 MiB reservation, aligned to its size) is made writable at once and advised onto huge
//!   pages. glibc makes it writable bit by bit as the heap grows, in steps that are not whole
//!   huge pages, which would leave 4 KiB pages behind at every step. The heap's first 2 MiB,
//!   which glibc touched before this could run, is collapsed into one huge page.
//!
//! glibc's own switches for this (`GLIBC_TUNABLES`) are read only at start-up, which cost the
//! command a second start of the process. The heap settings rely on how glibc lays out a
//! thread's heap, checked against `/proc/self/maps` before anything is changed; advice about
//! memory never changes what a program reads or writes, so a glibc that differs only makes the
//! link slower. A `GLIBC_TUNABLES` set by the user leaves the allocator as it is. Elsewhere
//! than Linux with glibc, both do nothing.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub use self::linux::{on_worker_start, tune};

/// Does nothing here.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}

/// Does nothing here.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn on_worker_start() {}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
mod linux {
    /// The reservation of a thread's heap in glibc (`HEAP_MAX_SIZE` on 64-bit targets).
    const HEAP_RESERVATION: usize = 64 << 20;

    fn user_tuned() -> bool {
        std::env::var_os("GLIBC_TUNABLES").is_some()
    }

    /// Sets how glibc's heaps grow and which blocks they serve. Call it before the worker
    /// threads start.
    pub fn tune() {
        if user_tuned() {
            return;
        }
        // SAFETY: `mallopt` only changes parameters of later allocations.
        unsafe {
            libc::mallopt(libc::M_TOP_PAD, 16 << 20);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        }
    }

    /// Puts the calling thread's heap on huge pages; for a thread pool's start handler.
    pub fn on_worker_start() {
        if user_tuned() {
            return;
        }
        // A block from this thread's heap (glibc makes the heap at the thread's first
        // allocation, before this runs).
        let probe = std::hint::black_box(vec![0u8; 64]);
        let block = probe.as_ptr() as usize;
        // SAFETY: `sbrk(0)` only reads the program break.
        let brk = unsafe { libc::sbrk(0) } as usize;
        if block < brk {
            // The main heap, below the program break: not a thread's.
            return;
        }
        tune_heap(block & !(HEAP_RESERVATION - 1));
    }

    /// Makes `heap..heap + HEAP_RESERVATION` writable and advises it onto huge pages, if it
    /// is a heap reservation as glibc makes one; whether it did.
    pub(super) fn tune_heap(heap: usize) -> bool {
        if !is_heap_reservation(heap) {
            return false;
        }
        // SAFETY: `heap..heap + HEAP_RESERVATION` is a heap reservation (checked above):
        // private anonymous memory that only glibc's allocator uses, and that glibc itself
        // makes writable as the heap grows (nothing is committed until touched). The advice
        // changes which pages back the memory, never its contents.
        unsafe {
            let start = heap as *mut libc::c_void;
            if libc::mprotect(start, HEAP_RESERVATION, libc::PROT_READ | libc::PROT_WRITE) != 0
                || libc::madvise(start, HEAP_RESERVATION, libc::MADV_HUGEPAGE) != 0
            {
                return false;
            }
            // Fails harmlessly before Linux 6.1.
            libc::madvise(start, 2 << 20, libc::MADV_COLLAPSE);
        }
        true
    }

    /// Whether `heap..heap + HEAP_RESERVATION` is private anonymous memory laid out as glibc
    /// lays out a thread's heap: one readable and writable mapping at its start, and the rest
    /// (if any) one inaccessible mapping. (A thread's stack, say, has its inaccessible guard
    /// below it, and is never made writable here.)
    fn is_heap_reservation(heap: usize) -> bool {
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
            return false;
        };
        let end = heap + HEAP_RESERVATION;
        let mut covered = heap;
        for line in maps.lines() {
            // `start-end perms offset device inode [path]`
            let mut fields = line.split_whitespace();
            let (Some(range), Some(perms), Some(_), Some(_), Some(inode)) = (
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
            ) else {
                return false;
            };
            let Some((lo, hi)) = range.split_once('-') else {
                return false;
            };
            let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            else {
                return false;
            };
            if hi <= heap || lo >= end {
                continue;
            }
            let anonymous = inode == "0" && fields.next().is_none();
            let expected = if covered == heap { "rw-p" } else { "---p" };
            if lo != covered || hi > end || !anonymous || perms != expected {
                return false;
            }
            covered = hi;
        }
        covered >= end
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
mod tests {
    use super::linux::tune_heap;

    const RESERVATION: usize = 64 << 20;

    /// A reservation as glibc makes one for a thread's heap: 64 MiB of inaccessible private
    /// anonymous memory aligned to its size, its first part writable.
    fn glibc_like_heap() -> usize {
        // SAFETY: a new private anonymous mapping; no existing memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                2 * RESERVATION,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        let start = p as usize;
        let heap = start.next_multiple_of(RESERVATION);
        // SAFETY: the parts of the mapping just made outside `heap..heap + RESERVATION`.
        unsafe {
            if heap > start {
                libc::munmap(p, heap - start);
            }
            let end = heap + RESERVATION;
            if start + 2 * RESERVATION > end {
                libc::munmap(end as *mut libc::c_void, start + 2 * RESERVATION - end);
            }
            libc::mprotect(
                heap as *mut libc::c_void,
                132 << 10,
                libc::PROT_READ | libc::PROT_WRITE,
            );
            (heap as *mut u8).write(1);
        }
        heap
    }

    /// The smaps entry (header to `VmFlags`) of the mapping that starts at `start`.
    fn smaps_entry(start: usize) -> Option<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let from = smaps.find(&format!("{start:x}-"))?;
        let rest = &smaps[from..];
        let end = rest.find("VmFlags:").map_or(rest.len(), |i| {
            i + rest[i..].find('\n').unwrap_or(rest.len() - i)
        });
        Some(rest[..end].to_string())
    }

    #[test]
    fn a_heap_reservation_becomes_one_writable_mapping_on_huge_pages() {
        let heap = glibc_like_heap();
        assert!(tune_heap(heap));
        let entry = smaps_entry(heap).expect("the heap starts a mapping");
        let header = entry.lines().next().unwrap_or_default();
        assert!(
            header.starts_with(&format!("{heap:x}-{:x} rw-p ", heap + RESERVATION)),
            "{entry}"
        );
        let flags = entry.lines().last().unwrap_or_default();
        assert!(flags.split_whitespace().any(|f| f == "hg"), "{entry}");
        // All of it is usable, and what was written before stays.
        // SAFETY: the reservation is writable now and owned by this test.
        unsafe {
            let p = heap as *mut u8;
            assert_eq!(p.read(), 1);
            p.add(RESERVATION - 1).write(2);
            assert_eq!(p.add(RESERVATION - 1).read(), 2);
            libc::munmap(p.cast(), RESERVATION);
        }
    }

    /// Memory laid out as a thread's stack is, with its inaccessible guard below it.
    #[test]
    fn a_guard_below_writable_memory_is_left_alone() {
        let heap = glibc_like_heap();
        // SAFETY: the reservation made above, owned by this test.
        unsafe {
            let p = heap as *mut libc::c_void;
            libc::mprotect(p, RESERVATION, libc::PROT_READ | libc::PROT_WRITE);
            libc::mprotect(p, 4096, libc::PROT_NONE);
        }
        assert!(!tune_heap(heap));
        let entry = smaps_entry(heap).expect("the guard starts a mapping");
        assert!(
            entry.starts_with(&format!("{heap:x}-{:x} ---p ", heap + 4096)),
            "{entry}"
        );
        // SAFETY: the reservation made above, unused from here on.
        unsafe { libc::munmap(heap as *mut libc::c_void, RESERVATION) };
    }

    #[test]
    fn other_memory_is_left_alone() {
        // Not aligned to a reservation: the range runs into other mappings or holes.
        let heap = glibc_like_heap();
        assert!(!tune_heap(heap + (1 << 20)));
        let entry = smaps_entry(heap).expect("the heap starts a mapping");
        assert!(
            entry.starts_with(&format!("{heap:x}-{:x} rw-p ", heap + (132 << 10))),
            "{entry}"
        );
        // A file mapping is never a heap.
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        // SAFETY: a new read-only private mapping of a file; no existing memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                std::os::fd::AsRawFd::as_raw_fd(&file),
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        assert!(!tune_heap(p as usize & !(RESERVATION - 1)));
        // SAFETY: the mappings made above, unused from here on.
        unsafe {
            libc::munmap(p, 4096);
            libc::munmap(heap as *mut libc::c_void, RESERVATION);
        }
    }
}
