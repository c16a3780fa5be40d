# Pipelines whose writer outlives its reader: the writer is killed by
# SIGPIPE (or sees EPIPE), the pipeline's status is the last stage's;
# with pipefail the writer's death (128 + 13) shows.
# tlb: generic
seq 1 2000 | sort -r | head -5
echo "status $?"
seq 1 1000000 | head -n 2
echo "status $?"
yes | head -n 3
set -o pipefail
seq 1 1000000 | head -n 1
echo "pipefail status $?"
yes abc | tr a-c x-z | head -n 2
echo "pipefail status $?"
