// st-probe-net OP...: network attacks, one RESULT line per OP (label = the OP as given).
//   ifaces          interface names from /proc/net/dev: names=lo,eth0
//   ifconf          interface names from SIOCGIFCONF (those with an IPv4 address) and whether
//                   each is up: names=lo up=lo
//   tcp:IP:PORT     TCP connect (3 s at most), then send "st-probe-tcp"
//   udp:IP:PORT     UDP sendto of "st-probe-udp" (3 datagrams)
//   unix:PATH       connect to a UNIX stream socket (PATH "@name": abstract), then send
//                   "st-probe-unix"
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "probe.h"

static void do_ifaces(const char* label) {
  FILE* f = fopen("/proc/net/dev", "r");
  if (!f) return probe_report(label, -1, errno, NULL);
  char line[512], names[2048] = "";
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    char* colon = strchr(line, ':');
    if (!colon) continue;  // the two header lines
    *colon = '\0';
    char* name = line;
    while (*name == ' ') ++name;
    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", n++ ? "," : "", name);
  }
  fclose(f);
  probe_report(label, 0, 0, "count=%d names=%s", n, names);
}

static void do_ifconf(const char* label) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return probe_report(label, -1, errno, NULL);
  struct ifreq reqs[64];
  struct ifconf conf = {.ifc_len = sizeof reqs, .ifc_req = reqs};
  if (ioctl(s, SIOCGIFCONF, &conf) != 0) {
    int e = errno;
    close(s);
    return probe_report(label, -1, e, NULL);
  }
  char names[2048] = "", up[2048] = "";
  int n = (int)(conf.ifc_len / sizeof reqs[0]);
  for (int i = 0; i < n; ++i) {
    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%.16s", i ? "," : "",
             reqs[i].ifr_name);
    struct ifreq r;
    memset(&r, 0, sizeof r);
    memcpy(r.ifr_name, reqs[i].ifr_name, IFNAMSIZ);
    if (ioctl(s, SIOCGIFFLAGS, &r) == 0 && (r.ifr_flags & IFF_UP)) {
      snprintf(up + strlen(up), sizeof up - strlen(up), "%s%.16s", up[0] ? "," : "", r.ifr_name);
    }
  }
  close(s);
  probe_report(label, 0, 0, "count=%d names=%s up=%s", n, names, up);
}

static int parse_addr(const char* ip, const char* port, struct sockaddr_in* sa) {
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons((uint16_t)atoi(port));
  return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -1;
}

static void do_tcp(const char* label, const struct sockaddr_in* sa) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return probe_report(label, -1, errno, "step=socket");
  int rc = connect(s, (const struct sockaddr*)sa, sizeof *sa);
  if (rc != 0 && errno == EINPROGRESS) {
    struct pollfd p = {.fd = s, .events = POLLOUT};
    rc = poll(&p, 1, 3000);
    if (rc == 0) {
      close(s);
      return probe_report(label, -1, ETIMEDOUT, "step=connect");
    }
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      close(s);
      return probe_report(label, -1, err, "step=connect");
    }
    rc = 0;
  }
  if (rc != 0) {
    int e = errno;
    close(s);
    return probe_report(label, -1, e, "step=connect");
  }
  ssize_t n = send(s, "st-probe-tcp", 12, MSG_NOSIGNAL);
  int e = errno;
  close(s);
  probe_report(label, n == 12 ? 0 : -1, e, "step=send");
}

static void do_udp(const char* label, const struct sockaddr_in* sa) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return probe_report(label, -1, errno, "step=socket");
  ssize_t n = -1;
  int e = 0;
  for (int i = 0; i < 3; ++i) {
    n = sendto(s, "st-probe-udp", 12, 0, (const struct sockaddr*)sa, sizeof *sa);
    if (n < 0) {
      e = errno;
      break;
    }
  }
  close(s);
  probe_report(label, n == 12 ? 0 : -1, e, "step=sendto");
}

static void do_unix(const char* label, const char* path) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  size_t len = strlen(path);
  if (len >= sizeof sa.sun_path) return probe_report(label, -1, ENAMETOOLONG, NULL);
  memcpy(sa.sun_path, path, len);
  if (path[0] == '@') sa.sun_path[0] = '\0';
  socklen_t size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return probe_report(label, -1, errno, "step=socket");
  if (connect(s, (const struct sockaddr*)&sa, size) != 0) {
    int e = errno;
    close(s);
    return probe_report(label, -1, e, "step=connect");
  }
  ssize_t n = send(s, "st-probe-unix", 13, MSG_NOSIGNAL);
  int e = errno;
  close(s);
  probe_report(label, n == 13 ? 0 : -1, e, "step=send");
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], "unix:", 5) == 0) {
      do_unix(argv[i], argv[i] + 5);
      continue;
    }
    char* op = strdup(argv[i]);
    char* ip = strchr(op, ':');
    char* port = ip ? strchr(ip + 1, ':') : NULL;
    if (ip) *ip++ = '\0';
    if (port) *port++ = '\0';
    if (strcmp(op, "ifaces") == 0) {
      do_ifaces(argv[i]);
    } else if (strcmp(op, "ifconf") == 0) {
      do_ifconf(argv[i]);
    } else if (port && (strcmp(op, "tcp") == 0 || strcmp(op, "udp") == 0)) {
      struct sockaddr_in sa;
      if (parse_addr(ip, port, &sa) != 0) {
        fprintf(stderr, "st-probe-net: bad address in %s\n", argv[i]);
        return 2;
      }
      if (op[0] == 't') {
        do_tcp(argv[i], &sa);
      } else {
        do_udp(argv[i], &sa);
      }
    } else {
      fprintf(stderr, "st-probe-net: bad op %s\n", argv[i]);
      return 2;
    }
  }
  return 0;
}
