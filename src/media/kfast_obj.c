/*
 * kfast_obj.c - the compiled BPF object of kfast.bpf.c, embedded at
 * build time (KFAST_OBJ names the file; see media.mk), so nothing is
 * read from disk when the daemon starts.
 */
#include <stddef.h>

#ifndef KFAST_OBJ
#error "KFAST_OBJ: path of the compiled kfast.bpf.o"
#endif

__asm__(".section .rodata\n"
	".balign 8\n"
	".global kfast_obj\n"
	"kfast_obj:\n"
	".incbin \"" KFAST_OBJ "\"\n"
	".global kfast_obj_end\n"
	"kfast_obj_end:\n"
	".previous\n");

extern const unsigned char kfast_obj[], kfast_obj_end[];
size_t kfast_obj_size(void);
const unsigned char *kfast_obj_data(void);

size_t kfast_obj_size(void)
{
	return (size_t)(kfast_obj_end - kfast_obj);
}

const unsigned char *kfast_obj_data(void)
{
	return kfast_obj;
}
