# Installation is completed in a later step (headers, libmlos, CMake package, mlos.pc).
