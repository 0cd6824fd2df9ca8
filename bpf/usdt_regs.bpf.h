/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* USDT arguments on the hot path: like bpf_usdt_arg() from <bpf/usdt.bpf.h>,
 * whose argument specs (filled in by libbpf at attach) it reads, but an
 * argument that sits in a register is loaded straight from the pt_regs
 * context: a plain load instead of a bpf_probe_read_kernel() call, and one
 * spec lookup for all arguments instead of one per argument. On this VM that
 * takes fetching a register argument from ~45 ns to ~1 ns, most of what
 * latency.bpf.c costs per wait. Any other argument (memory, constant) and any
 * architecture but x86-64 goes through bpf_usdt_arg() itself. */
#ifndef PROBEMON_BPF_USDT_REGS_BPF_H
#define PROBEMON_BPF_USDT_REGS_BPF_H

#include <stddef.h>
#include <bpf/usdt.bpf.h>

/* The argument specs of the probe being hit, or NULL. */
static __always_inline struct __bpf_usdt_spec *pm_usdt_spec(struct pt_regs *ctx)
{
	int spec_id = __bpf_usdt_spec_id(ctx);

	return spec_id < 0 ? NULL : bpf_map_lookup_elem(&__bpf_usdt_specs, &spec_id);
}

/* Loads the register at `reg_off` in struct pt_regs. The verifier only
 * allows context loads at constant offsets, and the compiler would fold a
 * switch of plain loads back into one load at ctx + reg_off, so each case is
 * a load written in BPF assembly. */
static __always_inline bool pm_usdt_reg(struct pt_regs *ctx, short reg_off, unsigned long *val)
{
#if defined(__TARGET_ARCH_x86)
#define PM_REG(name)                                                            \
	case offsetof(struct pt_regs, name):                                    \
		asm volatile("%[v] = *(u64 *)(%[c] + %[off])"                   \
			     : [v] "=r"(*val)                                   \
			     : [c] "r"(ctx), [off] "i"(offsetof(struct pt_regs, name))); \
		return true;
	switch (reg_off) {
	PM_REG(rax) PM_REG(rbx) PM_REG(rcx) PM_REG(rdx) PM_REG(rsi) PM_REG(rdi)
	PM_REG(rbp) PM_REG(rsp) PM_REG(r8) PM_REG(r9) PM_REG(r10) PM_REG(r11)
	PM_REG(r12) PM_REG(r13) PM_REG(r14) PM_REG(r15)
	}
#undef PM_REG
#endif
	return false;
}

/* Argument `n` (a constant) of the probe with specs `spec`, as bpf_usdt_arg(). */
static __always_inline int pm_usdt_arg(struct pt_regs *ctx, struct __bpf_usdt_spec *spec,
				       __u64 n, long *res)
{
	struct __bpf_usdt_arg_spec *arg;
	unsigned long val;

	if (n >= BPF_USDT_MAX_ARG_CNT || n >= spec->arg_cnt)
		return bpf_usdt_arg(ctx, n, res);
	arg = &spec->args[n];
	if (arg->arg_type != BPF_USDT_ARG_REG || !pm_usdt_reg(ctx, arg->reg_off, &val))
		return bpf_usdt_arg(ctx, n, res);
	/* Narrow 1-, 2- and 4-byte arguments, as bpf_usdt_arg() does. */
	val <<= arg->arg_bitshift;
	if (arg->arg_signed)
		val = ((long)val) >> arg->arg_bitshift;
	else
		val = val >> arg->arg_bitshift;
	*res = val;
	return 0;
}

#endif
