# Third-party packages, found once at the top level and GLOBAL so every module and libmlos.so
# (which re-links the modules' dependencies) see the same imported targets.
# All come from Debian 12 packages installed by scripts/setup.sh.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(Protobuf REQUIRED GLOBAL)
find_package(ONNX REQUIRED CONFIG GLOBAL)
find_package(yaml-cpp REQUIRED GLOBAL)
find_package(SQLite3 REQUIRED GLOBAL)
find_package(LibArchive REQUIRED GLOBAL)
find_package(OpenSSL REQUIRED GLOBAL)
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET GLOBAL openblas)
