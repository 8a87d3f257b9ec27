/* Replays saved fuzz corpora without libFuzzer: linked with one fuzz
 * target's LLVMFuzzerTestOneInput, it feeds every file named on the command
 * line (directories are walked one level) once. `make test` builds it with
 * the plain and the sanitizer build, so every corpus input is re-checked on
 * every run. Exit 0 when all inputs ran (a crash aborts the process). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return -1;
  }
  size_t cap = 4096, len = 0;
  uint8_t *data = malloc(cap);
  size_t n;
  while (data && (n = fread(data + len, 1, cap - len, f)) > 0) {
    len += n;
    if (len == cap) {
      cap *= 2;
      data = realloc(data, cap);
    }
  }
  fclose(f);
  if (!data)
    return -1;
  LLVMFuzzerTestOneInput(data, len);
  free(data);
  return 0;
}

int main(int argc, char **argv)
{
  int inputs = 0, failures = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      perror(argv[i]);
      failures++;
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      failures += replay_file(argv[i]) != 0;
      inputs++;
      continue;
    }
    DIR *d = opendir(argv[i]);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.')
        continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
      failures += replay_file(path) != 0;
      inputs++;
    }
    if (d)
      closedir(d);
  }
  printf("replayed %d inputs, %d unreadable\n", inputs, failures);
  return failures ? 1 : 0;
}
