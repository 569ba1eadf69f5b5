// A longer tour of KernelAPI: values, element access, element-wise ops, errors.
#include <kernel_api.h>

#include <iostream>

int main() {
  KernelAPI kernel;
  std::cout << "threads: " << kernel.num_threads() << "\n";

  Tensor a = kernel.create_tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = kernel.create_tensor({3, 2}, {1, 0, 0, 1, 1, 1});
  Tensor c = kernel.matrix_multiply(a, b);  // [[4, 5], [10, 11]]
  std::cout << "a @ b = " << c.ToString() << "\n";

  Tensor row = kernel.create_tensor({3}, {10, 20, 30});
  Tensor sum = kernel.tensor_operations(a, "add", row);  // broadcast over rows
  std::cout << "a + row = " << sum.ToString() << "\n";
  std::cout
      << "relu(a - 3) = "
      << kernel.tensor_operations(kernel.tensor_operations(a, "subtract", 3.0), "relu").ToString()
      << "\n";
  std::cout << "c[1][0] = " << c.at<float>({1, 0}) << "\n";

  try {
    kernel.matrix_multiply(a, a);  // 2x3 @ 2x3: shapes do not line up
  } catch (const mlos::KernelError& e) {
    std::cout << "error, as expected: " << e.what() << "\n";
  }
  return 0;
}
