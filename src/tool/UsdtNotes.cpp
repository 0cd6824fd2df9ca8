// SPDX-License-Identifier: BSD-3-Clause
#include "UsdtNotes.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "Error.h"
#include "Fd.h"

namespace probemon::tool {
namespace {

constexpr std::uint32_t kNoteTypeStapsdt = 3;  // NT_STAPSDT, SDT note version 3

// Reads "provider\0name\0args\0" after the three addresses of a note.
bool parseNote(const char* desc, std::size_t size, int elf_class, UsdtProbe& probe) {
  const std::size_t addr_size = elf_class == ELFCLASS32 ? 4 : 8;
  if (size < 3 * addr_size) return false;
  auto address = [&](int i) {
    std::uint64_t value = 0;
    if (addr_size == 4) {
      std::uint32_t v32 = 0;
      std::memcpy(&v32, desc + i * addr_size, 4);
      value = v32;
    } else {
      std::memcpy(&value, desc + i * addr_size, 8);
    }
    return value;
  };
  probe.pc = address(0);
  probe.base = address(1);
  probe.semaphore = address(2);
  std::size_t at = 3 * addr_size;
  std::string* fields[] = {&probe.provider, &probe.name, &probe.args};
  for (std::string* field : fields) {
    const void* end = std::memchr(desc + at, '\0', size - at);
    if (end == nullptr) return false;
    field->assign(desc + at, static_cast<const char*>(end));
    at = static_cast<std::size_t>(static_cast<const char*>(end) - desc) + 1;
    if (at > size) return false;
  }
  return true;
}

}  // namespace

std::vector<UsdtProbe> readUsdtProbes(const std::string& path, const std::string& provider) {
  if (elf_version(EV_CURRENT) == EV_NONE) throw ToolError("libelf is unusable: reinstall libelf");
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    throw ToolError("cannot open " + path + ": " + std::strerror(errno));
  }
  // Declared after fd, so the Elf handle is released first.
  std::unique_ptr<Elf, decltype(&elf_end)> elf(elf_begin(fd.get(), ELF_C_READ, nullptr), &elf_end);
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) {
    throw ToolError(path + " is not an ELF file: give an executable or shared library");
  }
  const int elf_class = gelf_getclass(elf.get());
  std::vector<UsdtProbe> probes;
  Elf_Scn* scn = nullptr;
  std::size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf.get(), &shstrndx) != 0) return probes;
  while ((scn = elf_nextscn(elf.get(), scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != SHT_NOTE) continue;
    const char* name = elf_strptr(elf.get(), shstrndx, shdr.sh_name);
    if (name == nullptr || std::strcmp(name, ".note.stapsdt") != 0) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) continue;
    GElf_Nhdr nhdr;
    std::size_t offset = 0, name_off = 0, desc_off = 0;
    while ((offset = gelf_getnote(data, offset, &nhdr, &name_off, &desc_off)) > 0) {
      const char* bytes = static_cast<const char*>(data->d_buf);
      if (nhdr.n_type != kNoteTypeStapsdt || nhdr.n_namesz != sizeof("stapsdt") ||
          std::strcmp(bytes + name_off, "stapsdt") != 0) {
        continue;
      }
      UsdtProbe probe;
      if (parseNote(bytes + desc_off, nhdr.n_descsz, elf_class, probe) &&
          probe.provider == provider) {
        probes.push_back(std::move(probe));
      }
    }
  }
  return probes;
}

}  // namespace probemon::tool
