#include <kernel_api.h>

int main() {
    KernelAPI kernel;
    Tensor tensor1 = kernel.create_tensor({3, 3});
    Tensor tensor2 = kernel.create_tensor({3, 3});
    
    Tensor result = kernel.matrix_multiply(tensor1, tensor2);
    // Use result...
    return 0;
}
