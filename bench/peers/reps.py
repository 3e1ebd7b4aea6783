"""How many repetitions of a shape a harness runs; the same rule as
cmd/lfbench's moreReps, so every system gets the same treatment."""


def more(walls, reps, min_time, max_reps, budget):
    """Whether to run another repetition after those timed in walls.

    Always until reps have run; then, while all of them together took less
    than min_time seconds and fewer than max_reps have run, more: a shape that
    runs for milliseconds gets enough samples that one slow repetition (the
    first, on cold caches) cannot move the median. Never once the repetitions
    took longer than budget (at least one always runs).
    """
    total = sum(walls)
    if walls and total > budget:
        return False
    if len(walls) < reps:
        return True
    return total < min_time and len(walls) < max_reps


def add_args(p):
    p.add_argument("--min-time", type=float, default=0.0,
                   help="after --reps, go on repeating while the repetitions took less than this many seconds in all")
    p.add_argument("--max-reps", type=int, default=25,
                   help="no more repetitions than this because of --min-time")
