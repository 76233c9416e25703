/* OpenPGM entry points for a statically linked libzmq (common/CMakeLists.txt, sandtrace_zmq),
 * in place of Debian's libpgm.a. libzmq uses OpenPGM for its pgm:// and epgm:// transports only,
 * which sandtrace never uses (ipc:// between its stages, tcp:// to a collector), but it calls
 * pgm_init() when it creates any context. The real pgm_init() looks up the "pgm" protocol
 * through NSS: in a static binary that reads /etc/nsswitch.conf and /etc/ld.so.cache, tries to
 * load libnss_db from four directories and reads /etc/protocols, in every sandtrace process that
 * talks ZeroMQ, on the way to every run's start.
 *
 * Here pgm_init() succeeds and does nothing; every other call fails. sandtrace's sockets (pair,
 * dealer, router) cannot take a PGM endpoint anyway, and its command line accepts only tcp:// and
 * ipc://. On a PUB or SUB socket, pgm_getaddrinfo() is the first call of a pgm:// or epgm://
 * endpoint, and its error (an interface error) is one libzmq turns into EINVAL: zmq_bind and
 * zmq_connect fail with "Invalid argument" (tests/common/channel_test.cc). */
#include <pgm/pgm.h>
#include <stddef.h>

/* The stubs ignore most of their parameters (built with -Wno-unused-parameter). libzmq frees
 * what pgm_getaddrinfo() reported with pgm_error_free(): a static error, never freed. */
static pgm_error_t unsupported = {PGM_ERROR_DOMAIN_IF, PGM_ERROR_NODEV,
                                  (char*)"PGM transports are not built into sandtrace"};

static void set_unsupported(pgm_error_t** error) {
  if (error != NULL) *error = &unsupported;
}

bool pgm_init(pgm_error_t** error) { return true; }

bool pgm_shutdown(void) { return true; }

bool pgm_getaddrinfo(const char* restrict network,
                     const struct pgm_addrinfo_t* const restrict hints,
                     struct pgm_addrinfo_t** restrict result, pgm_error_t** restrict error) {
  if (result != NULL) *result = NULL;
  set_unsupported(error);
  return false;
}

void pgm_freeaddrinfo(struct pgm_addrinfo_t* info) {}

void pgm_error_free(pgm_error_t* error) {}

void pgm_free(void* memory) {}

bool pgm_socket(pgm_sock_t** restrict sock, const sa_family_t family, const int type,
                const int protocol, pgm_error_t** restrict error) {
  if (sock != NULL) *sock = NULL;
  set_unsupported(error);
  return false;
}

bool pgm_bind3(pgm_sock_t* restrict sock, const struct pgm_sockaddr_t* const restrict address,
               const socklen_t address_len, const struct pgm_interface_req_t* const send_req,
               const socklen_t send_req_len, const struct pgm_interface_req_t* const recv_req,
               const socklen_t recv_req_len, pgm_error_t** restrict error) {
  set_unsupported(error);
  return false;
}

bool pgm_connect(pgm_sock_t* restrict sock, pgm_error_t** restrict error) {
  set_unsupported(error);
  return false;
}

bool pgm_close(pgm_sock_t* sock, bool flush) { return false; }

bool pgm_setsockopt(pgm_sock_t* const restrict sock, const int level, const int name,
                    const void* restrict value, const socklen_t len) {
  return false;
}

bool pgm_getsockopt(pgm_sock_t* const restrict sock, const int level, const int name,
                    void* restrict value, socklen_t* restrict len) {
  return false;
}

int pgm_send(pgm_sock_t* const restrict sock, const void* restrict data, const size_t len,
             size_t* restrict written) {
  if (written != NULL) *written = 0;
  return PGM_IO_STATUS_ERROR;
}

int pgm_recvmsgv(pgm_sock_t* const restrict sock, struct pgm_msgv_t* const restrict msgv,
                 const size_t count, const int flags, size_t* restrict read,
                 pgm_error_t** restrict error) {
  if (read != NULL) *read = 0;
  set_unsupported(error);
  return PGM_IO_STATUS_ERROR;
}

bool pgm_gsi_create_from_data(pgm_gsi_t* restrict gsi, const uint8_t* restrict data,
                              const size_t len) {
  return false;
}
