/* SPDX-License-Identifier: MIT */
#include "virt.h"
#include "error.h"
#include "fsutil.h"
#include "json-reader.h"
#include "xml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct hpci_virt {
	virConnectPtr conn;
	char *uri;
};

/*
 * libvirt's default event implementation is process-wide: one thread runs
 * it for every open connection, started by the first open and stopped by
 * the last close.  This mirrors libvirt's own global, so it is one too.
 */
static struct {
	GMutex lock;
	unsigned users;
	GThread *thread;
	gint quit;
} event_loop_state;

/*
 * What the event callbacks of one domain see.  libvirt may still be
 * dispatching an event to a callback while, or after, it is deregistered
 * (the SAVED stop of hpci_domain_save() arrives that way): the callbacks
 * hold references released by libvirt's freecb, and the handle's free
 * silences on_stop under the lock, so no callback reaches a freed handle
 * or calls its owner back after the free.
 */
struct domain_watch {
	gint refs;
	GMutex lock;
	hpci_domain_stop_cb on_stop;    /* NULL once the handle is freed */
	void *opaque;
};

struct hpci_domain {
	struct hpci_virt *virt;
	virDomainPtr dom;
	int callback_id;
	int reboot_callback_id;
	struct domain_watch *watch;
	char *name;
};

static const char *last_virt_message(void)
{
	const char *msg = virGetLastErrorMessage();

	return msg ? msg : "unknown libvirt error";
}

/* QEMU's words when it refuses a hot(un)plug the firmware did not negotiate
 * (hw/acpi/ich9.c, docs/facts.md §4).  QEMU reports them as a GenericError,
 * which libvirt passes on as VIR_ERR_INTERNAL_ERROR: its words are the only
 * code there is, so this adapter alone reads them. */
static const char *const qemu_refusals[] = {
	"cpu hotplug with SMI wasn't enabled by firmware",
	"cpu hot-unplug with SMI wasn't enabled by firmware",
};

static bool is_qemu_refusal(const char *message)
{
	for (size_t i = 0; message && i < G_N_ELEMENTS(qemu_refusals); i++) {
		if (strstr(message, qemu_refusals[i]))
			return true;
	}
	return false;
}

/* What the failed call was, for the kind of an error libvirt does not type. */
enum virt_call {
	CALL_HOST,      /* connection, definition, monitor: the host's business */
	CALL_HOTPLUG,   /* a vCPU hot(un)plug request */
	CALL_AGENT,     /* a command through the guest agent */
};

static enum hpci_error_kind error_kind(const virErrorPtr err, enum virt_call call)
{
	if (!err)
		return HPCI_ERR_HOST;
	switch (err->code) {
	case VIR_ERR_OPERATION_TIMEOUT:
		return call == CALL_HOST ? HPCI_ERR_HOST : HPCI_ERR_TIMEOUT;
	case VIR_ERR_NO_DOMAIN:
	case VIR_ERR_OPERATION_INVALID:   /* "domain is not running" */
		return HPCI_ERR_DOMAIN_GONE;
	case VIR_ERR_AGENT_UNRESPONSIVE:
	case VIR_ERR_AGENT_UNSYNCED:
		return HPCI_ERR_AGENT;
	case VIR_ERR_NO_CONNECT:
	case VIR_ERR_SYSTEM_ERROR:
	case VIR_ERR_RPC:
	case VIR_ERR_AUTH_FAILED:
		return HPCI_ERR_HOST;
	default:
		break;
	}
	switch (call) {
	case CALL_HOTPLUG:
		return is_qemu_refusal(err->message) ? HPCI_ERR_REFUSED : HPCI_ERR_REQUEST;
	case CALL_AGENT:
		/* The agent relays the guest's failures as internal errors. */
		return HPCI_ERR_AGENT;
	case CALL_HOST:
		break;
	}
	return HPCI_ERR_HOST;
}

/* Translates libvirt's last error at the boundary, code and kind; returns
 * the negative code. */
static int virt_error_of(enum virt_call call, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int virt_error_of(enum virt_call call, const char *fmt, ...)
{
	g_autofree char *what = NULL;
	virErrorPtr err = virGetLastError();
	enum hpci_error_kind kind = error_kind(err, call);
	int code = EIO;
	va_list ap;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (err && err->code == VIR_ERR_OPERATION_TIMEOUT)
		code = ETIMEDOUT;
	else if (kind == HPCI_ERR_DOMAIN_GONE)
		code = ESRCH;
	return hpci_error_kind(kind, code, "%s: %s", what, last_virt_message());
}

#define virt_error(...) virt_error_of(CALL_HOST, __VA_ARGS__)

const char *hpci_domain_stop_name(enum hpci_domain_stop stop)
{
	switch (stop) {
	case HPCI_STOP_SHUTDOWN: return "shutdown";
	case HPCI_STOP_DESTROYED: return "destroyed";
	case HPCI_STOP_CRASHED: return "crashed";
	case HPCI_STOP_FAILED: return "failed";
	case HPCI_STOP_RESET: return "reset";
	case HPCI_STOP_SAVED: return "saved";
	case HPCI_STOP_OTHER: break;
	}
	return "other";
}

static gpointer event_loop(gpointer data)
{
	(void)data;
	while (!g_atomic_int_get(&event_loop_state.quit)) {
		if (virEventRunDefaultImpl() < 0)
			break;
	}
	return NULL;
}

static void wake_event_loop(int timer, void *opaque)
{
	(void)opaque;
	virEventRemoveTimeout(timer);
}

/* libvirt prints errors to stderr by default; they are reported through ours. */
static void silence_libvirt(void *opaque, virErrorPtr err)
{
	(void)opaque;
	(void)err;
}

static void event_loop_ref(void)
{
	g_mutex_lock(&event_loop_state.lock);
	if (event_loop_state.users++ == 0) {
		g_atomic_int_set(&event_loop_state.quit, 0);
		event_loop_state.thread = g_thread_new("virt-events", event_loop, NULL);
	}
	g_mutex_unlock(&event_loop_state.lock);
}

static void event_loop_unref(void)
{
	g_mutex_lock(&event_loop_state.lock);
	if (--event_loop_state.users == 0) {
		g_atomic_int_set(&event_loop_state.quit, 1);
		/* A zero timeout makes virEventRunDefaultImpl return so the loop sees quit. */
		virEventAddTimeout(0, wake_event_loop, NULL, NULL);
		g_thread_join(g_steal_pointer(&event_loop_state.thread));
	}
	g_mutex_unlock(&event_loop_state.lock);
}

int hpci_virt_open(const char *uri, struct hpci_virt **ret)
{
	static gsize event_impl_registered;
	g_autofree struct hpci_virt *virt = g_new0(struct hpci_virt, 1);

	/* The default event implementation can only be registered once, and
	 * before the first connection. */
	if (g_once_init_enter(&event_impl_registered)) {
		virSetErrorFunc(NULL, silence_libvirt);
		virEventRegisterDefaultImpl();
		g_once_init_leave(&event_impl_registered, 1);
	}
	virt->conn = virConnectOpen(uri);
	if (!virt->conn)
		return virt_error("cannot connect to libvirt at '%s'", uri);
	virt->uri = g_strdup(uri);
	event_loop_ref();
	*ret = g_steal_pointer(&virt);
	return 0;
}

const char *hpci_virt_uri(struct hpci_virt *virt)
{
	return virt->uri;
}

/* libvirt's default log_dir for the system QEMU driver (qemu.conf). */
#define SYSTEM_QEMU_LOG_DIR "/var/log/libvirt/qemu"

char *hpci_virt_domain_log(struct hpci_virt *virt, const char *name)
{
	g_autoptr(GUri) uri = g_uri_parse(virt->uri, G_URI_FLAGS_NONE, NULL);
	const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;

	/* qemu:///system and qemu+unix:///system; a remote host's logs are
	 * on that host, a session's under its user's home. */
	if (!scheme || (strcmp(scheme, "qemu") && strcmp(scheme, "qemu+unix")) ||
	    (g_uri_get_host(uri) && *g_uri_get_host(uri)) ||
	    strcmp(g_uri_get_path(uri), "/system"))
		return NULL;
	return g_strdup_printf(SYSTEM_QEMU_LOG_DIR "/%s.log", name);
}

int hpci_virt_check_emulator(struct hpci_virt *virt, const char *emulator)
{
	g_autofree char *caps = virConnectGetDomainCapabilities(virt->conn, emulator, "x86_64",
								"q35", "qemu", 0);

	if (!caps)
		return virt_error("libvirt cannot use the emulator '%s' (it probes it as the user "
				  "it runs QEMU as, libvirt-qemu on Debian; that user needs search "
				  "access to every directory above it: run ci/setup.sh, or build "
				  "with HPCI_CACHE_DIR in a directory that user can reach)", emulator);
	return 0;
}

void hpci_virt_close(struct hpci_virt *virt)
{
	if (!virt)
		return;
	/* Closing first lets auto-destroy and callback deregistration run while
	 * the loop still turns. */
	virConnectClose(virt->conn);
	event_loop_unref();
	g_free(virt->uri);
	g_free(virt);
}

char *hpci_virt_describe(struct hpci_virt *virt)
{
	unsigned long lib = 0, hv = 0;

	virConnectGetLibVersion(virt->conn, &lib);
	virConnectGetVersion(virt->conn, &hv);
	return g_strdup_printf("libvirt %lu.%lu.%lu, hypervisor %lu.%lu.%lu at %s",
			       lib / 1000000, lib / 1000 % 1000, lib % 1000,
			       hv / 1000000, hv / 1000 % 1000, hv % 1000, virt->uri);
}

static enum hpci_domain_stop stop_from_detail(int detail)
{
	switch (detail) {
	case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN: return HPCI_STOP_SHUTDOWN;
	case VIR_DOMAIN_EVENT_STOPPED_DESTROYED: return HPCI_STOP_DESTROYED;
	case VIR_DOMAIN_EVENT_STOPPED_CRASHED: return HPCI_STOP_CRASHED;
	case VIR_DOMAIN_EVENT_STOPPED_FAILED: return HPCI_STOP_FAILED;
	case VIR_DOMAIN_EVENT_STOPPED_SAVED: return HPCI_STOP_SAVED;
	default: return HPCI_STOP_OTHER;
	}
}

static struct domain_watch *watch_ref(struct domain_watch *w)
{
	g_atomic_int_inc(&w->refs);
	return w;
}

static void watch_unref(void *opaque)
{
	struct domain_watch *w = opaque;

	if (!g_atomic_int_dec_and_test(&w->refs))
		return;
	g_mutex_clear(&w->lock);
	g_free(w);
}

static void watch_notify(struct domain_watch *w, enum hpci_domain_stop stop)
{
	g_mutex_lock(&w->lock);
	if (w->on_stop)
		w->on_stop(stop, w->opaque);
	g_mutex_unlock(&w->lock);
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr d, int event, int detail, void *opaque)
{
	(void)conn;
	(void)d;
	if (event == VIR_DOMAIN_EVENT_STOPPED)
		watch_notify(opaque, stop_from_detail(detail));
	return 0;
}

static void on_reboot(virConnectPtr conn, virDomainPtr d, void *opaque)
{
	(void)conn;
	(void)d;
	watch_notify(opaque, HPCI_STOP_RESET);
}

/* Takes d into a new handle and registers the stop callbacks. */
static int watch_domain(struct hpci_virt *virt, virDomainPtr d, hpci_domain_stop_cb on_stop,
			void *opaque, struct hpci_domain **ret)
{
	g_autoptr(hpci_domain) dom = g_new0(struct hpci_domain, 1);

	dom->virt = virt;
	dom->dom = d;
	dom->callback_id = -1;
	dom->reboot_callback_id = -1;
	dom->watch = g_new0(struct domain_watch, 1);
	dom->watch->refs = 1;
	g_mutex_init(&dom->watch->lock);
	dom->watch->on_stop = on_stop;
	dom->watch->opaque = opaque;
	dom->name = g_strdup(virDomainGetName(dom->dom));
	dom->callback_id = virConnectDomainEventRegisterAny(
		virt->conn, dom->dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
		VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), watch_ref(dom->watch), watch_unref);
	if (dom->callback_id < 0) {
		watch_unref(dom->watch);   /* libvirt did not take its reference */
	} else {
		dom->reboot_callback_id = virConnectDomainEventRegisterAny(
			virt->conn, dom->dom, VIR_DOMAIN_EVENT_ID_REBOOT,
			VIR_DOMAIN_EVENT_CALLBACK(on_reboot), watch_ref(dom->watch), watch_unref);
		if (dom->reboot_callback_id < 0)
			watch_unref(dom->watch);
	}
	if (dom->callback_id < 0 || dom->reboot_callback_id < 0)
		return virt_error("cannot watch domain '%s'", dom->name);
	*ret = g_steal_pointer(&dom);
	return 0;
}

int hpci_domain_create(struct hpci_virt *virt, const char *xml, hpci_domain_stop_cb on_stop,
		       void *opaque, struct hpci_domain **ret)
{
	virDomainPtr d = virDomainCreateXML(virt->conn, xml,
					    VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_AUTODESTROY);

	if (!d)
		return virt_error("cannot start domain");
	/* On failure the handle's free destroys the domain. */
	return watch_domain(virt, d, on_stop, opaque, ret);
}

int hpci_domain_resume(struct hpci_domain *dom)
{
	if (virDomainResume(dom->dom) < 0)
		return virt_error("cannot resume domain '%s'", dom->name);
	return 0;
}

void hpci_domain_free(struct hpci_domain *dom)
{
	if (!dom)
		return;
	if (dom->dom) {
		if (virDomainIsActive(dom->dom) == 1)
			virDomainDestroy(dom->dom);
		virResetLastError();
	}
	if (dom->watch) {
		/* An event libvirt dispatches from now on finds nobody to call. */
		g_mutex_lock(&dom->watch->lock);
		dom->watch->on_stop = NULL;
		g_mutex_unlock(&dom->watch->lock);
	}
	if (dom->callback_id >= 0)
		virConnectDomainEventDeregisterAny(dom->virt->conn, dom->callback_id);
	if (dom->reboot_callback_id >= 0)
		virConnectDomainEventDeregisterAny(dom->virt->conn, dom->reboot_callback_id);
	if (dom->watch)
		watch_unref(dom->watch);
	if (dom->dom)
		virDomainFree(dom->dom);
	g_free(dom->name);
	g_free(dom);
}

bool hpci_domain_is_active(struct hpci_domain *dom)
{
	int active = virDomainIsActive(dom->dom);

	virResetLastError();
	return active == 1;
}

const char *hpci_domain_name(struct hpci_domain *dom)
{
	return dom->name;
}

char *hpci_domain_live_xml(struct hpci_domain *dom)
{
	char *xml = virDomainGetXMLDesc(dom->dom, 0);

	virResetLastError();
	return xml;
}

int hpci_domain_set_vcpu(struct hpci_domain *dom, unsigned vcpu, bool enable)
{
	char map[16];

	g_snprintf(map, sizeof(map), "%u", vcpu);
	if (virDomainSetVcpu(dom->dom, map, enable, VIR_DOMAIN_AFFECT_LIVE) < 0)
		return virt_error_of(CALL_HOTPLUG, "cannot %s vCPU %u of '%s'",
				     enable ? "plug" : "unplug", vcpu, dom->name);
	return 0;
}

int hpci_domain_set_vcpu_count(struct hpci_domain *dom, unsigned count)
{
	if (virDomainSetVcpusFlags(dom->dom, count, VIR_DOMAIN_AFFECT_LIVE) < 0)
		return virt_error_of(CALL_HOTPLUG, "cannot set the vCPU count of '%s' to %u",
				     dom->name, count);
	return 0;
}

int hpci_domain_live_vcpus(struct hpci_domain *dom)
{
	int n = virDomainGetVcpusFlags(dom->dom, VIR_DOMAIN_AFFECT_LIVE);

	if (n < 0)
		return virt_error("cannot read the vCPU count of '%s'", dom->name);
	return n;
}

/*
 * The guest's agent holds its port open before the guest prints its ready
 * line (images/minimal/init), but libvirt learns that from QEMU's
 * VSERPORT_CHANGE event, which under load comes after the line; until then
 * libvirt refuses agent commands at once as "not connected" (the first one
 * after the line, 15 ms after it, in 1 of 53 cells of a full.json run,
 * 2026-12-05).  Such a refusal is retried for a moment; any other failure,
 * or an agent that never connects, is reported.
 */
#define AGENT_CONNECT_GRACE_US (5 * G_USEC_PER_SEC)
#define AGENT_CONNECT_POLL_US (50 * 1000)

static bool agent_connecting(gint64 since)
{
	virErrorPtr err = virGetLastError();

	if (!err || err->code != VIR_ERR_AGENT_UNRESPONSIVE || !err->message ||
	    !strstr(err->message, "not connected") ||
	    g_get_monotonic_time() - since > AGENT_CONNECT_GRACE_US)
		return false;
	g_usleep(AGENT_CONNECT_POLL_US);
	return true;
}

int hpci_domain_set_guest_cpu(struct hpci_domain *dom, unsigned cpu, bool online)
{
	gint64 since = g_get_monotonic_time();
	char map[16];
	int rc;

	g_snprintf(map, sizeof(map), "%u", cpu);
	while ((rc = virDomainSetGuestVcpus(dom->dom, map, online, 0)) < 0 &&
	       agent_connecting(since))
		;
	if (rc < 0)
		return virt_error_of(CALL_AGENT, "cannot %s guest CPU %u of '%s'",
				     online ? "online" : "offline", cpu, dom->name);
	return 0;
}

int hpci_domain_agent_command(struct hpci_domain *dom, const char *json, int timeout_s,
			      char **ret_reply)
{
	gint64 since = g_get_monotonic_time();
	char *reply;

	while (!(reply = virDomainQemuAgentCommand(dom->dom, json, timeout_s, 0)) &&
	       agent_connecting(since))
		;
	if (!reply)
		return virt_error_of(CALL_AGENT, "guest agent of '%s' did not answer", dom->name);
	*ret_reply = g_strdup(reply);
	free(reply);
	return 0;
}

int hpci_domain_hmp(struct hpci_domain *dom, const char *command, char **ret_reply)
{
	char *reply = NULL;

	if (virDomainQemuMonitorCommand(dom->dom, command, &reply,
					VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP) < 0)
		return virt_error("monitor command '%s' on '%s' failed", command, dom->name);
	*ret_reply = g_strdup(reply);
	free(reply);
	return 0;
}

int hpci_domain_qemu_cpus(struct hpci_domain *dom)
{
	char *reply = NULL;
	g_autoptr(json_object) root = NULL;
	json_object *ret;
	int n = -1;

	if (virDomainQemuMonitorCommand(dom->dom, "{\"execute\":\"query-cpus-fast\"}", &reply,
					0) < 0)
		return virt_error("cannot ask QEMU of '%s' for its CPUs", dom->name);
	root = json_tokener_parse(reply);
	free(reply);
	if (root && json_object_object_get_ex(root, "return", &ret) &&
	    json_object_is_type(ret, json_type_array))
		n = (int)json_object_array_length(ret);
	if (n < 0)
		return hpci_error(EPROTO, "QEMU of '%s' answered query-cpus-fast without a CPU list",
				  dom->name);
	return n;
}

int hpci_virt_list_domains(struct hpci_virt *virt, const char *prefix, GPtrArray **ret_names)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(virt->conn, &doms, 0);

	if (n < 0)
		return virt_error("cannot list domains");
	for (int i = 0; i < n; i++) {
		const char *name = virDomainGetName(doms[i]);

		if (name && g_str_has_prefix(name, prefix))
			g_ptr_array_add(names, g_strdup(name));
		virDomainFree(doms[i]);
	}
	free(doms);
	*ret_names = g_steal_pointer(&names);
	return (int)(*ret_names)->len;
}

int hpci_virt_destroy_by_name(struct hpci_virt *virt, const char *name)
{
	virDomainPtr d = virDomainLookupByName(virt->conn, name);
	int ret = 0;

	if (!d)
		return virt_error("cannot find domain '%s'", name);
	if (virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0)
		ret = virt_error("cannot destroy domain '%s'", name);
	if (ret == 0 && virDomainIsPersistent(d) == 1 &&
	    virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_NVRAM) < 0)
		ret = virt_error("cannot undefine domain '%s'", name);
	virDomainFree(d);
	return ret;
}

int hpci_domain_save(struct hpci_domain *dom, const char *path)
{
	/* libvirt writes the image as "partial" and marks it complete last,
	 * and removes a file it created when the save fails. */
	if (virDomainSaveFlags(dom->dom, path, NULL, VIR_DOMAIN_SAVE_PAUSED) < 0)
		return virt_error("cannot save domain '%s' to '%s'", dom->name, path);
	return 0;
}

int hpci_saved_state_xml(struct hpci_virt *virt, const char *path, char **ret_xml)
{
	char *xml = virDomainSaveImageGetXMLDesc(virt->conn, path, VIR_DOMAIN_SAVE_IMAGE_XML_SECURE);

	if (!xml)
		return virt_error("cannot read the domain XML of saved image '%s'", path);
	*ret_xml = g_strdup(xml);
	free(xml);
	return 0;
}

/*
 * libvirt's header of a saved image (src/qemu/qemu_saveimage.h, version 2,
 * unchanged since libvirt 0.9): the domain XML, NUL-terminated, then the
 * save cookie (the CPU definition) and zero padding, data_len bytes in all;
 * QEMU's migration stream follows.  libvirt reads the XML from here, so a
 * copy with another name and UUID here restores as another domain.
 */
#define SAVED_MAGIC "LibvirtQemudSave"
#define SAVED_VERSION 2
#define SAVED_DATA_MAX (16u << 20)

struct saved_header {
	char magic[sizeof(SAVED_MAGIC) - 1];
	uint32_t version;
	uint32_t data_len;
	uint32_t was_running;
	uint32_t compressed;
	uint32_t cookie_offset;
	uint32_t unused[14];
};
G_STATIC_ASSERT(sizeof(struct saved_header) == 92);

static int read_exactly(int fd, void *buf, size_t len, off_t offset, const char *path)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, offset + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hpci_error_errno(errno, "cannot read saved image '%s'", path);
		if (n == 0)
			return hpci_error(EPROTO, "saved image '%s' is truncated", path);
		done += (size_t)n;
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t len, const char *path)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hpci_error_errno(errno, "cannot write '%s'", path);
		done += (size_t)n;
	}
	return 0;
}

/* Copies in from offset to its end onto out, in the kernel. */
static int copy_rest(int in, off_t offset, int out, const char *saved, const char *scratch)
{
	struct stat st;

	if (fstat(in, &st) < 0)
		return hpci_error_errno(errno, "cannot stat saved image '%s'", saved);
	while (offset < st.st_size) {
		ssize_t n = copy_file_range(in, &offset, out, NULL, (size_t)(st.st_size - offset), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hpci_error_errno(errno, "cannot copy saved image '%s' to '%s'", saved,
						scratch);
		if (n == 0)
			return hpci_error(EPROTO, "saved image '%s' shrank while it was copied", saved);
	}
	return 0;
}

/* Writes scratch: saved, its header naming the domain name/uuid. */
static int copy_saved_renamed(const char *saved, const char *scratch, const char *name,
			      const char *uuid)
{
	hpci_autofd int in = open(saved, O_RDONLY | O_CLOEXEC);
	hpci_autofd int out = -1;
	struct saved_header h, renamed;
	g_autofree char *data = NULL;
	g_autofree char *xml = NULL;
	g_autoptr(xmlDoc) doc = NULL;
	size_t xml_len, rest_len, new_len;
	int rc;

	if (in < 0)
		return hpci_error_errno(errno, "cannot open saved image '%s'", saved);
	if ((rc = read_exactly(in, &h, sizeof(h), 0, saved)) < 0)
		return rc;
	if (memcmp(h.magic, SAVED_MAGIC, sizeof(h.magic)) != 0)
		return hpci_error(EPROTO, "'%s' is not a complete libvirt saved image", saved);
	if (h.version != SAVED_VERSION || h.compressed != 0)
		return hpci_error(ENOTSUP, "saved image '%s' has header version %u and compression "
				  "%u: only version %u, uncompressed, can be renamed", saved,
				  h.version, h.compressed, SAVED_VERSION);
	xml_len = h.cookie_offset ? h.cookie_offset : h.data_len;
	if (h.data_len == 0 || h.data_len > SAVED_DATA_MAX || xml_len > h.data_len)
		return hpci_error(EPROTO, "saved image '%s' has a bad header (data %u bytes, "
				  "cookie at %u)", saved, h.data_len, h.cookie_offset);
	data = g_malloc0(h.data_len + 1);
	if ((rc = read_exactly(in, data, h.data_len, sizeof(h), saved)) < 0)
		return rc;
	if (memchr(data, '\0', xml_len) == NULL)
		return hpci_error(EPROTO, "the domain XML of saved image '%s' is not terminated",
				  saved);
	if ((rc = hpci_xml_parse(data, "the domain XML of a saved image", &doc)) < 0)
		return rc;
	hpci_xml_set_root_child_text(doc, "name", name);
	hpci_xml_set_root_child_text(doc, "uuid", uuid);
	if (!(xml = hpci_xml_to_string(doc, NULL)))
		return hpci_error(ENOMEM, "cannot serialise the domain XML of '%s'", scratch);
	new_len = strlen(xml) + 1;
	rest_len = h.data_len - xml_len;   /* the cookie and the padding */
	if (new_len + rest_len > SAVED_DATA_MAX)
		return hpci_error(E2BIG, "the renamed domain XML for '%s' is too large", scratch);
	renamed = h;
	renamed.data_len = (uint32_t)(new_len + rest_len);
	renamed.cookie_offset = h.cookie_offset ? (uint32_t)new_len : 0;

	out = open(scratch, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return hpci_error_errno(errno, "cannot create '%s'", scratch);
	if ((rc = write_all(out, &renamed, sizeof(renamed), scratch)) < 0 ||
	    (rc = write_all(out, xml, new_len, scratch)) < 0 ||
	    (rc = write_all(out, data + xml_len, rest_len, scratch)) < 0)
		return rc;
	return copy_rest(in, (off_t)(sizeof(h) + h.data_len), out, saved, scratch);
}

/* Destroys a domain by name, keeping the error that made it necessary. */
static void destroy_after_error(struct hpci_virt *virt, const char *name)
{
	g_autoptr(hpci_error_saved) first = hpci_error_save();
	virDomainPtr d = virDomainLookupByName(virt->conn, name);

	if (d) {
		if (virDomainIsActive(d) == 1)
			virDomainDestroy(d);
		virDomainFree(d);
	}
	virResetLastError();
	hpci_error_restore(g_steal_pointer(&first));
}

int hpci_domain_restore(struct hpci_virt *virt, const char *saved, const char *xml,
			const char *scratch, hpci_domain_stop_cb on_stop, void *opaque,
			struct hpci_domain **ret)
{
	g_autoptr(xmlDoc) doc = NULL;
	g_autofree char *name = NULL;
	g_autofree char *uuid = NULL;
	g_autofree char *dxml = NULL;
	hpci_autounlink char *copy = NULL;
	virDomainPtr d;
	int rc;

	if ((rc = hpci_xml_parse(xml, "the domain XML to restore", &doc)) < 0)
		return rc;
	name = hpci_xml_root_child_text(doc, "name");
	if (!name || !*name)
		return hpci_error(EINVAL, "the domain XML to restore '%s' into names no domain",
				  saved);
	if (scratch) {
		uuid = hpci_xml_root_child_text(doc, "uuid");
		if (!uuid) {
			uuid = g_uuid_string_random();
			hpci_xml_set_root_child_text(doc, "uuid", uuid);
		}
		if (!(dxml = hpci_xml_to_string(doc, NULL)))
			return hpci_error(ENOMEM, "cannot serialise the domain XML of '%s'", name);
		copy = g_strdup(scratch);  /* removed on every path from here */
		if ((rc = copy_saved_renamed(saved, scratch, name, uuid)) < 0)
			return rc;
	}
	/* Returns once QEMU has loaded the whole stream: the copy can go. */
	if (virDomainRestoreFlags(virt->conn, copy ? copy : saved, dxml ? dxml : xml,
				  VIR_DOMAIN_SAVE_PAUSED) < 0)
		return virt_error("cannot restore saved image '%s' as domain '%s'", saved, name);
	d = virDomainLookupByName(virt->conn, name);
	if (!d) {
		rc = virt_error("cannot find domain '%s' restored from '%s'", name, saved);
		/* Not auto-destroyed: no domain may outlive a failed call. */
		destroy_after_error(virt, name);
		return rc;
	}
	/* On failure the handle's free destroys the domain. */
	return watch_domain(virt, d, on_stop, opaque, ret);
}
