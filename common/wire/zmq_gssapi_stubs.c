/* GSS-API entry points for a statically linked libzmq (common/CMakeLists.txt, sandtrace_zmq).
 * libzmq.a refers to them from its ZMQ_GSSAPI security mechanism, which only runs when a socket
 * sets ZMQ_GSSAPI_SERVER or ZMQ_GSSAPI_PLAINTEXT (a peer cannot select it: a mechanism that differs
 * from the socket's own ends the handshake). sandtrace never sets them, and Debian ships no static
 * libgssapi_krb5, whose shared copy would bring back the start-up cost of six more libraries.
 * Every GSS-API call takes `OM_uint32 *minor_status` first; each stub sets it to 0 and fails
 * with GSS_S_FAILURE. */
#include <stdint.h>
#include <stddef.h>

#define SANDTRACE_GSS_S_FAILURE (13u << 16)

#define SANDTRACE_GSS_STUB(name)                      \
  uint32_t name(uint32_t* minor_status) {             \
    if (minor_status != NULL) *minor_status = 0;      \
    return SANDTRACE_GSS_S_FAILURE;                   \
  }

SANDTRACE_GSS_STUB(gss_accept_sec_context)
SANDTRACE_GSS_STUB(gss_acquire_cred)
SANDTRACE_GSS_STUB(gss_delete_sec_context)
SANDTRACE_GSS_STUB(gss_display_name)
SANDTRACE_GSS_STUB(gss_import_name)
SANDTRACE_GSS_STUB(gss_init_sec_context)
SANDTRACE_GSS_STUB(gss_release_buffer)
SANDTRACE_GSS_STUB(gss_release_cred)
SANDTRACE_GSS_STUB(gss_release_name)
SANDTRACE_GSS_STUB(gss_unwrap)
SANDTRACE_GSS_STUB(gss_wrap)

/* Name types (gss_OID) libzmq passes to gss_import_name. */
void* GSS_C_NT_USER_NAME = NULL;
void* GSS_C_NT_HOSTBASED_SERVICE = NULL;
