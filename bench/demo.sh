#!/bin/sh
# make demo: a fast producer into a slow consumer through weir.
# The first weir logs (-v) each pause and resume: its consumer, a second
# weir paced to 2 MiB/s, reads slowly, so its buffer reaches high water
# and it stops reading the producer.  --stats sums it up at the end.
set -eu
cd "$(dirname "$0")/.."
size=${DEMO_SIZE:-8M}
echo "demo: $size from /dev/zero -> weir -v -> a consumer reading 2 MiB/s"
echo "demo: weir holds at most 1 MiB (high-water); watch it pause and resume"
head -c "$size" /dev/zero |
    ./weir -v --stats -u - - |
    ./weir --rate 2M -u - - |
    wc -c | sed 's/^ */demo: bytes delivered: /'
