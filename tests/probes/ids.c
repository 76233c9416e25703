// st-probe-ids: the credentials the probe runs with (run it as a setuid copy to check for a
// privilege gain): "RESULT ids ok ruid=R euid=E suid=S rgid=G egid=H nnp=N capeff=HEX".
#include <stdlib.h>

#include "probe.h"

static void status_field(const char* key, char* out, size_t size) {
  snprintf(out, size, "?");
  FILE* f = fopen("/proc/self/status", "r");
  if (!f) return;
  char line[512];
  size_t klen = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
      char* v = line + klen + 1;
      while (*v == ' ' || *v == '\t') ++v;
      v[strcspn(v, "\n")] = '\0';
      snprintf(out, size, "%s", v);
      break;
    }
  }
  fclose(f);
}

int main(void) {
  uid_t r, e, s;
  gid_t rg, eg, sg;
  getresuid(&r, &e, &s);
  getresgid(&rg, &eg, &sg);
  char nnp[64], cap[64];
  status_field("NoNewPrivs", nnp, sizeof nnp);
  status_field("CapEff", cap, sizeof cap);
  probe_report("ids", 0, 0, "ruid=%u euid=%u suid=%u rgid=%u egid=%u nnp=%s capeff=%s", (unsigned)r,
               (unsigned)e, (unsigned)s, (unsigned)rg, (unsigned)eg, nnp, cap);
  return 0;
}
