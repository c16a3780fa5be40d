/*
 * sched_spin.c - two processes that only make progress if the scheduler
 * preempts: parent and child ping-pong a counter through a MAP_SHARED
 * anonymous page by spinning on it, with no system call in the loop. On
 * Linux (and under qemu-user) the kernel's timer preempts the spinner;
 * under mmuemu the instruction slice does. Also checks that the page
 * stays shared across fork (MAP_SHARED) while a private page does not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS 200

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : ROUNDS;
    volatile uint64_t *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    static volatile uint64_t private_word = 7;
    if (shared == MAP_FAILED) {
        printf("mmap: FAIL\n");
        return 1;
    }
    shared[0] = 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        printf("fork: FAIL\n");
        return 1;
    }
    if (pid == 0) {
        private_word = 99; /* copy-on-write: the parent keeps 7 */
        for (int i = 0; i < rounds; i++) {
            while (shared[0] != (uint64_t)(2 * i + 1))
                ; /* the parent's turn */
            shared[0] = (uint64_t)(2 * i + 2);
        }
        _exit(private_word == 99 ? 0 : 3);
    }
    for (int i = 0; i < rounds; i++) {
        while (shared[0] != (uint64_t)(2 * i))
            ; /* the child's turn */
        shared[0] = (uint64_t)(2 * i + 1);
    }
    while (shared[0] != (uint64_t)(2 * rounds))
        ;
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
        printf("wait: FAIL\n");
        return 1;
    }
    printf("ping-pong rounds: %d, final counter %llu\n", rounds,
           (unsigned long long)shared[0]);
    printf("child exit: %d, private word in the parent: %llu\n",
           WEXITSTATUS(st), (unsigned long long)private_word);
    printf("sched_spin: %s\n",
           WEXITSTATUS(st) == 0 && private_word == 7 ? "ok" : "FAIL");
    return WEXITSTATUS(st) == 0 && private_word == 7 ? 0 : 1;
}
