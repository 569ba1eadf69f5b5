# Warnings are errors on our own code only; third-party headers come in as SYSTEM.
function(mlos_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
endfunction()

# Compile flags for translation units that carry AVX2/FMA code paths chosen at run time.
set(MLOS_AVX2_FLAGS -mavx2 -mfma -mf16c)
