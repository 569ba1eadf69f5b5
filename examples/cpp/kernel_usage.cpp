#include <kernel_api.h>

int main() {
    // Initialize the kernel API
    KernelAPI kernel;

    // Create a tensor
    Tensor tensor = kernel.create_tensor({3, 3});

    // Run a matrix multiplication
    Tensor result = kernel.matrix_multiply(tensor, tensor);
    
    return 0;
}
