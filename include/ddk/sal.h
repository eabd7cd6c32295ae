/*
 * include/ddk/sal.h - source annotations, accepted and ignored.
 *
 * WDK sources annotate parameters (_In_, _Out_writes_bytes_(n) ...) and
 * roles (_Function_class_, _IRQL_requires_max_ ...). gcc has no use for them;
 * they expand to nothing so that WDK code compiles unchanged. The verifier
 * checks the IRQL contracts at run time instead.
 */
#ifndef _WDMSIM_SAL_H
#define _WDMSIM_SAL_H

#define _In_
#define _In_opt_
#define _Inout_
#define _Inout_opt_
#define _Out_
#define _Out_opt_
#define _In_z_
#define _In_opt_z_
#define _Out_z_
#define _Inout_z_
#define _In_reads_(n)
#define _In_reads_opt_(n)
#define _In_reads_bytes_(n)
#define _In_reads_bytes_opt_(n)
#define _Out_writes_(n)
#define _Out_writes_opt_(n)
#define _Out_writes_bytes_(n)
#define _Out_writes_bytes_opt_(n)
#define _Out_writes_bytes_to_(n, m)
#define _Out_writes_bytes_to_opt_(n, m)
#define _Out_writes_to_(n, m)
#define _Out_writes_z_(n)
#define _Out_writes_bytes_all_(n)
#define _Inout_updates_(n)
#define _Inout_updates_bytes_(n)
#define _Inout_updates_opt_(n)
#define _Outptr_
#define _Outptr_opt_
#define _Outptr_result_maybenull_
#define _Outptr_result_bytebuffer_(n)
#define _Deref_out_
#define _Ret_maybenull_
#define _Ret_notnull_
#define _Ret_z_
#define _Ret_range_(a, b)
#define _Post_writable_byte_size_(n)
#define _Post_maybenull_
#define _Pre_notnull_
#define _Result_nullonfailure_
#define _Must_inspect_result_
#define _Check_return_
#define _Success_(e)
#define _Return_type_success_(e)
#define _Null_terminated_
#define _NullNull_terminated_
#define _Field_size_(n)
#define _Field_size_bytes_(n)
#define _Field_size_bytes_part_(n, m)
#define _Field_size_part_(n, m)
#define _Field_range_(a, b)
#define _In_range_(a, b)
#define _Out_range_(a, b)
#define _Printf_format_string_
#define _Function_class_(x)
#define _Dispatch_type_(x)
#define _IRQL_requires_(x)
#define _IRQL_requires_max_(x)
#define _IRQL_requires_min_(x)
#define _IRQL_requires_same_
#define _IRQL_raises_(x)
#define _IRQL_saves_
#define _IRQL_restores_
#define _IRQL_saves_global_(k, x)
#define _IRQL_restores_global_(k, x)
#define _IRQL_always_function_max_(x)
#define _IRQL_always_function_min_(x)
#define _IRQL_uses_cancel_
#define _IRQL_is_cancel_
#define _Acquires_lock_(x)
#define _Releases_lock_(x)
#define _Requires_lock_held_(x)
#define _Requires_lock_not_held_(x)
#define _Acquires_exclusive_lock_(x)
#define _Releases_exclusive_lock_(x)
#define _When_(c, a)
#define _At_(t, a)
#define _Analysis_assume_(e)
#define _Kernel_requires_resource_held_(x)
#define _Kernel_clear_do_init_(x)
#define _Kernel_float_saved_
#define _Kernel_float_restored_
#define _Kernel_float_used_
#define _Use_decl_annotations_
#define _Notliteral_
#define _Literal_
#define _Reserved_
#define _Frees_ptr_
#define _Frees_ptr_opt_
#define _Post_invalid_
#define _Pre_satisfies_(e)
#define _Post_satisfies_(e)
#define _Points_to_data_
#define _Strict_type_match_
#define _Interlocked_operand_
#define _Maybe_raises_SEH_exception_
#define _Pre_
#define _Post_
#define _Deref_
#define __drv_aliasesMem
#define __drv_allocatesMem(x)
#define __drv_freesMem(x)
#define __drv_maxIRQL(x)
#define __drv_minIRQL(x)
#define __drv_dispatchType(x)
#define __drv_when(c, a)
#define __drv_strictTypeMatch(x)
#define __drv_reportError(x)
#define __in
#define __out
#define __inout
#define __in_opt
#define __out_opt
#define __inout_opt
#define __in_bcount(n)
#define __out_bcount(n)
#define __in_ecount(n)
#define __out_ecount(n)
#define __deref_out

#endif
