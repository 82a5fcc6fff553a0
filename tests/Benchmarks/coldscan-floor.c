/*
 * The least a no-change run over two trees must do on a file system, and how fast it can be done on this machine:
 * every directory of both trees read with getdents64 and every entry stated with statx (no link followed), the
 * entries of a directory stated in inode order, on many threads at once (a shared stack of directories still to
 * read). No comparison, no output, no runtime: a reference for Invoke-ColdScanBenchmark.ps1, which compiles it with
 * the machine's C compiler and times it beside PSReplica and rsync.
 *
 * Usage: coldscan-floor THREADS DIRECTORY...   prints "ENTRIES SECONDS"
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct dirent64_record {
    unsigned long long inode;
    long long offset;
    unsigned short length;
    unsigned char type;
    char name[];
};

struct name {
    unsigned long long inode;
    char *text;
};

static char **pending;
static size_t pending_count, pending_capacity;
static int busy;
static long long stated;
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;

static void push(char *path) {
    if (pending_count == pending_capacity) {
        pending_capacity = pending_capacity ? pending_capacity * 2 : 1024;
        pending = realloc(pending, pending_capacity * sizeof *pending);
        if (!pending) { perror("realloc"); exit(2); }
    }
    pending[pending_count++] = path;
}

static int by_inode(const void *a, const void *b) {
    unsigned long long x = ((const struct name *)a)->inode, y = ((const struct name *)b)->inode;
    return x < y ? -1 : x > y;
}

static void list_one(const char *path) {
    int directory = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (directory < 0) return;
    char buffer[64 * 1024];
    struct name *names = NULL;
    size_t count = 0, capacity = 0;
    long read_bytes;
    while ((read_bytes = syscall(SYS_getdents64, directory, buffer, sizeof buffer)) > 0) {
        for (long at = 0; at < read_bytes;) {
            struct dirent64_record *record = (struct dirent64_record *)(buffer + at);
            at += record->length;
            if (!strcmp(record->name, ".") || !strcmp(record->name, "..")) continue;
            if (count == capacity) {
                capacity = capacity ? capacity * 2 : 64;
                names = realloc(names, capacity * sizeof *names);
                if (!names) { perror("realloc"); exit(2); }
            }
            names[count].inode = record->inode;
            names[count].text = strdup(record->name);
            count++;
        }
    }
    qsort(names, count, sizeof *names, by_inode);
    long long here = 0;
    for (size_t i = 0; i < count; i++) {
        struct statx info;
        if (statx(directory, names[i].text, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &info) == 0) {
            here++;
            if (S_ISDIR(info.stx_mode)) {
                char *child = malloc(strlen(path) + strlen(names[i].text) + 2);
                if (!child) { perror("malloc"); exit(2); }
                sprintf(child, "%s/%s", path, names[i].text);
                pthread_mutex_lock(&gate);
                push(child);
                pthread_cond_signal(&changed);
                pthread_mutex_unlock(&gate);
            }
        }
        free(names[i].text);
    }
    free(names);
    close(directory);
    pthread_mutex_lock(&gate);
    stated += here;
    pthread_mutex_unlock(&gate);
}

static void *walk(void *unused) {
    (void)unused;
    for (;;) {
        pthread_mutex_lock(&gate);
        while (pending_count == 0 && busy > 0) pthread_cond_wait(&changed, &gate);
        if (pending_count == 0) {
            pthread_cond_broadcast(&changed);
            pthread_mutex_unlock(&gate);
            return NULL;
        }
        char *path = pending[--pending_count];
        busy++;
        pthread_mutex_unlock(&gate);
        list_one(path);
        free(path);
        pthread_mutex_lock(&gate);
        busy--;
        if (pending_count == 0 && busy == 0) pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&gate);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s THREADS DIRECTORY...\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[1]);
    if (threads < 1 || threads > 256) threads = 16;
    for (int i = 2; i < argc; i++) push(strdup(argv[i]));
    struct timespec started, ended;
    clock_gettime(CLOCK_MONOTONIC, &started);
    pthread_t *workers = calloc((size_t)threads, sizeof *workers);
    for (int i = 0; i < threads; i++) pthread_create(&workers[i], NULL, walk, NULL);
    for (int i = 0; i < threads; i++) pthread_join(workers[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &ended);
    printf("%lld %.6f\n", stated, (double)(ended.tv_sec - started.tv_sec) + (ended.tv_nsec - started.tv_nsec) / 1e9);
    return 0;
}
