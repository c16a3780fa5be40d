/*
 * test_rv_privilege.c - step 5 of the translation process and the choice
 * of privilege, as named cases: the U bit in U- and S-mode, SUM (loads
 * and stores only, never fetches), MXR (execute-only pages readable),
 * MPRV/MPP (M-mode loads and stores take MPP's privilege and translation;
 * fetches stay M and untranslated), M-mode untranslated.
 *
 * The exhaustive cross product is test_rv_leaf_matrix.c; these cases are
 * the rules one at a time, as the spec words them.
 */
#include "test_rv_harness.h"

#include <string.h>

#define V RV_PTE_V
#define R RV_PTE_R
#define W RV_PTE_W
#define X RV_PTE_X
#define U RV_PTE_U
#define A RV_PTE_A
#define D RV_PTE_D
#define SUM RV_MSTATUS_SUM
#define MXR RV_MSTATUS_MXR
#define MPRV RV_MSTATUS_MPRV
#define MPP_U ((uint64_t)RV_PRIV_U << RV_MSTATUS_MPP_SHIFT)
#define MPP_S ((uint64_t)RV_PRIV_S << RV_MSTATUS_MPP_SHIFT)
#define MPP_M ((uint64_t)RV_PRIV_M << RV_MSTATUS_MPP_SHIFT)

#define PS RV_PRIV_S
#define PU RV_PRIV_U
#define PM RV_PRIV_M

#define CASE(n, md, lv, bits, pv, ms, ac, out)                              \
    {.name = n, .mode = md, .leaf = lv, .leaf_bits = bits, .priv = pv,     \
     .mstatus = ms, .acc = ac, .want = out}

static const rh_one cases[] = {
    /* U-mode needs U=1. */
    CASE("sv39_user_load_user_page_ok", MMU_MODE_SV39, 0, V | R | U | A | D,
         PU, 0, MMU_READ, RH_OK),
    CASE("sv39_user_load_supervisor_page_faults", MMU_MODE_SV39, 0,
         V | R | W | X | A | D, PU, 0, MMU_READ, RH_PF),
    CASE("sv39_user_store_supervisor_page_faults", MMU_MODE_SV39, 0,
         V | R | W | X | A | D, PU, 0, MMU_WRITE, RH_PF),
    CASE("sv39_user_fetch_supervisor_page_faults", MMU_MODE_SV39, 0,
         V | R | W | X | A | D, PU, 0, MMU_FETCH, RH_PF),
    CASE("sv39_user_fetch_user_page_ok", MMU_MODE_SV39, 0, V | X | U | A | D,
         PU, 0, MMU_FETCH, RH_OK),
    CASE("sv39_user_sum_does_not_help_supervisor_page", MMU_MODE_SV39, 0,
         V | R | A | D, PU, SUM, MMU_READ, RH_PF),
    /* S-mode on U=1 pages: loads/stores only with SUM, never fetches. */
    CASE("sv39_s_load_user_page_without_sum_faults", MMU_MODE_SV39, 0,
         V | R | W | U | A | D, PS, 0, MMU_READ, RH_PF),
    CASE("sv39_s_store_user_page_without_sum_faults", MMU_MODE_SV39, 0,
         V | R | W | U | A | D, PS, 0, MMU_WRITE, RH_PF),
    CASE("sv39_s_load_user_page_with_sum_ok", MMU_MODE_SV39, 0,
         V | R | W | U | A | D, PS, SUM, MMU_READ, RH_OK),
    CASE("sv39_s_store_user_page_with_sum_ok", MMU_MODE_SV39, 0,
         V | R | W | U | A | D, PS, SUM, MMU_WRITE, RH_OK),
    CASE("sv39_s_fetch_user_page_with_sum_faults", MMU_MODE_SV39, 0,
         V | R | W | X | U | A | D, PS, SUM, MMU_FETCH, RH_PF),
    CASE("sv39_s_fetch_user_page_without_sum_faults", MMU_MODE_SV39, 0,
         V | X | U | A | D, PS, 0, MMU_FETCH, RH_PF),
    CASE("sv48_s_load_user_superpage_with_sum_ok", MMU_MODE_SV48, 2,
         V | R | U | A | D, PS, SUM, MMU_READ, RH_OK),
    CASE("sv32_s_fetch_user_4m_with_sum_faults", MMU_MODE_SV32, 1,
         V | X | U | A | D, PS, SUM, MMU_FETCH, RH_PF),
    /* R/W/X. */
    CASE("sv39_store_read_only_faults", MMU_MODE_SV39, 0, V | R | A | D, PS,
         0, MMU_WRITE, RH_PF),
    CASE("sv39_fetch_no_x_faults", MMU_MODE_SV39, 0, V | R | W | A | D, PS, 0,
         MMU_FETCH, RH_PF),
    CASE("sv39_load_exec_only_faults", MMU_MODE_SV39, 0, V | X | A | D, PS, 0,
         MMU_READ, RH_PF),
    /* MXR makes X-only pages readable (loads only). */
    CASE("sv39_mxr_load_exec_only_ok", MMU_MODE_SV39, 0, V | X | A | D, PS,
         MXR, MMU_READ, RH_OK),
    CASE("sv39_mxr_store_exec_only_faults", MMU_MODE_SV39, 0, V | X | A | D,
         PS, MXR, MMU_WRITE, RH_PF),
    CASE("sv39_mxr_user_load_exec_only_ok", MMU_MODE_SV39, 0,
         V | X | U | A | D, PU, MXR, MMU_READ, RH_OK),
    CASE("sv39_mxr_does_not_bypass_sum", MMU_MODE_SV39, 0, V | X | U | A | D,
         PS, MXR, MMU_READ, RH_PF),
    CASE("sv39_mxr_with_sum_loads_user_exec_only", MMU_MODE_SV39, 0,
         V | X | U | A | D, PS, MXR | SUM, MMU_READ, RH_OK),
    CASE("sv57_mxr_load_exec_only_256t_ok", MMU_MODE_SV57, 4, V | X | A | D,
         PS, MXR, MMU_READ, RH_OK),
    /* M-mode: untranslated, whatever the tables say. */
    CASE("sv39_m_load_untranslated", MMU_MODE_SV39, 0, 0, PM, 0, MMU_READ,
         RH_UNTRANSLATED),
    CASE("sv39_m_store_untranslated", MMU_MODE_SV39, 0, 0, PM, SUM | MXR,
         MMU_WRITE, RH_UNTRANSLATED),
    CASE("sv32_m_fetch_untranslated", MMU_MODE_SV32, 0, V | W, PM, 0,
         MMU_FETCH, RH_UNTRANSLATED),
    /* MPRV: M-mode loads/stores as MPP; fetches stay M. */
    CASE("sv39_m_mprv_mpp_s_load_translates", MMU_MODE_SV39, 0,
         V | R | W | A | D, PM, MPRV | MPP_S, MMU_READ, RH_OK),
    CASE("sv39_m_mprv_mpp_s_store_translates", MMU_MODE_SV39, 0,
         V | R | W | A | D, PM, MPRV | MPP_S, MMU_WRITE, RH_OK),
    CASE("sv39_m_mprv_mpp_s_store_read_only_faults", MMU_MODE_SV39, 0,
         V | R | A | D, PM, MPRV | MPP_S, MMU_WRITE, RH_PF),
    CASE("sv39_m_mprv_mpp_s_fetch_untranslated", MMU_MODE_SV39, 0,
         V | R | A | D, PM, MPRV | MPP_S, MMU_FETCH, RH_UNTRANSLATED),
    CASE("sv39_m_mprv_mpp_u_load_supervisor_page_faults", MMU_MODE_SV39, 0,
         V | R | W | A | D, PM, MPRV | MPP_U, MMU_READ, RH_PF),
    CASE("sv39_m_mprv_mpp_u_store_user_page_ok", MMU_MODE_SV39, 0,
         V | R | W | U | A | D, PM, MPRV | MPP_U, MMU_WRITE, RH_OK),
    CASE("sv39_m_mprv_mpp_u_fetch_untranslated", MMU_MODE_SV39, 0,
         V | R | U | A | D, PM, MPRV | MPP_U, MMU_FETCH, RH_UNTRANSLATED),
    CASE("sv39_m_mprv_mpp_s_user_page_without_sum_faults", MMU_MODE_SV39, 0,
         V | R | U | A | D, PM, MPRV | MPP_S, MMU_READ, RH_PF),
    CASE("sv39_m_mprv_mpp_s_user_page_with_sum_ok", MMU_MODE_SV39, 0,
         V | R | U | A | D, PM, MPRV | MPP_S | SUM, MMU_READ, RH_OK),
    CASE("sv39_m_mprv_mpp_s_mxr_exec_only_ok", MMU_MODE_SV39, 0,
         V | X | A | D, PM, MPRV | MPP_S | MXR, MMU_READ, RH_OK),
    CASE("sv39_m_mprv_mpp_m_untranslated", MMU_MODE_SV39, 0, 0, PM,
         MPRV | MPP_M, MMU_WRITE, RH_UNTRANSLATED),
    CASE("sv48_m_mprv_mpp_s_2m_load_translates", MMU_MODE_SV48, 1,
         V | R | A | D, PM, MPRV | MPP_S, MMU_READ, RH_OK),
    CASE("sv32_m_mprv_mpp_u_load_user_page_ok", MMU_MODE_SV32, 0,
         V | R | U | A | D, PM, MPRV | MPP_U, MMU_READ, RH_OK),
    CASE("sv32_m_mprv_mpp_u_load_supervisor_page_faults", MMU_MODE_SV32, 0,
         V | R | A | D, PM, MPRV | MPP_U, MMU_READ, RH_PF),
    /* MPRV only affects M-mode. */
    CASE("sv39_s_mprv_mpp_u_is_still_s", MMU_MODE_SV39, 0, V | R | A | D, PS,
         MPRV | MPP_U, MMU_READ, RH_OK),
    CASE("sv39_u_mprv_mpp_s_is_still_u", MMU_MODE_SV39, 0, V | R | A | D, PU,
         MPRV | MPP_S, MMU_READ, RH_PF),
    CASE("sv39_s_mprv_mpp_m_is_still_translated", MMU_MODE_SV39, 0, V, PS,
         MPRV | MPP_M, MMU_READ, RH_PF),
};

static void named_privilege_cases(void **state)
{
    rh_check ck;
    (void)state;
    memset(&ck, 0, sizeof ck);
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
        rh_run_one(&ck, &cases[i]);
    rh_report(&ck, "privilege cases");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(named_privilege_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
