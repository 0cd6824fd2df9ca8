// SPDX-License-Identifier: BSD-3-Clause
#include "UsdtNotes.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "Fd.h"
#include "escaping/Escaping.h"

namespace probemon::tool {
namespace {

constexpr std::uint32_t kNoteTypeStapsdt = 3;  // NT_STAPSDT, SDT note version 3

using ElfPtr = std::unique_ptr<Elf, decltype(&elf_end)>;

// Reads "provider\0name\0args\0" after the three addresses of a note.
bool parseNote(const char* desc, std::size_t size, int elf_class, UsdtProbe& probe) {
  const std::size_t addr_size = elf_class == ELFCLASS32 ? 4 : 8;
  if (size < 3 * addr_size) return false;
  auto address = [&](std::size_t i) {
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
    if (at >= size) return false;
    const void* end = std::memchr(desc + at, '\0', size - at);
    if (end == nullptr) return false;
    field->assign(desc + at, static_cast<const char*>(end));
    at = static_cast<std::size_t>(static_cast<const char*>(end) - desc) + 1;
  }
  return true;
}

// `why` by default: libelf's last error.
[[noreturn]] void damaged(const std::string& name, const std::string& why = {}) {
  throw ToolError(detail::terminalText(name) + " is a damaged or truncated ELF file (" +
                  (why.empty() ? std::string("libelf: ") + elf_errmsg(-1) : why) +
                  "): give an intact executable or shared library");
}

// The probes of `provider` in `elf`, an image of `size` bytes.
std::vector<UsdtProbe> probesIn(Elf* elf, std::uint64_t size, const std::string& provider,
                                const std::string& name) {
  if (elf == nullptr || elf_kind(elf) != ELF_K_ELF) {
    throw NotElf(detail::terminalText(name) +
                 " is not an ELF file: give an executable or shared library");
  }
  const int elf_class = gelf_getclass(elf);
  if (elf_class != ELFCLASS32 && elf_class != ELFCLASS64) damaged(name);
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf, &ehdr) == nullptr) damaged(name);
  // libelf reads a section header table that lies past the end of the file
  // (the file was cut short: the table is at its end) as no sections at
  // all, which would pass for a file without probes. With e_shnum 0 and
  // e_shoff set, the count is in the first header, which must be there.
  const std::uint64_t table =
      std::uint64_t{ehdr.e_shnum == 0 && ehdr.e_shoff != 0 ? 1U : ehdr.e_shnum} * ehdr.e_shentsize;
  if (ehdr.e_shoff > size || table > size - ehdr.e_shoff) {
    damaged(name, "its section headers end past its " + std::to_string(size) + " bytes");
  }
  std::size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) damaged(name);
  std::vector<UsdtProbe> probes;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr) damaged(name);
    if (shdr.sh_type != SHT_NOTE) continue;
    const char* section = elf_strptr(elf, shstrndx, shdr.sh_name);
    if (section == nullptr) damaged(name);
    if (std::strcmp(section, ".note.stapsdt") != 0) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) damaged(name);  // e.g. past the end of a truncated file
    if (data->d_buf == nullptr) continue;
    GElf_Nhdr nhdr;
    std::size_t offset = 0, name_off = 0, desc_off = 0;
    while ((offset = gelf_getnote(data, offset, &nhdr, &name_off, &desc_off)) > 0) {
      const char* bytes = static_cast<const char*>(data->d_buf);
      // gelf_getnote() checked that name and desc lie inside the data.
      if (nhdr.n_type != kNoteTypeStapsdt || nhdr.n_namesz != sizeof("stapsdt") ||
          std::memcmp(bytes + name_off, "stapsdt", sizeof("stapsdt")) != 0) {
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

void initLibelf() {
  if (elf_version(EV_CURRENT) == EV_NONE) throw ToolError("libelf is unusable: reinstall libelf");
}

}  // namespace

std::vector<UsdtProbe> readUsdtProbes(const std::string& path, const std::string& provider) {
  initLibelf();
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    throw ToolError("cannot open " + detail::terminalText(path) + ": " + std::strerror(errno));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    throw ToolError("cannot read " + detail::terminalText(path) + ": " + std::strerror(errno));
  }
  // Declared after fd, so the Elf handle is released first.
  const ElfPtr elf(elf_begin(fd.get(), ELF_C_READ, nullptr), &elf_end);
  return probesIn(elf.get(), static_cast<std::uint64_t>(st.st_size), provider, path);
}

std::vector<UsdtProbe> readUsdtProbes(char* image, std::size_t size, const std::string& provider,
                                      const std::string& name) {
  initLibelf();
  const ElfPtr elf(elf_memory(image, size), &elf_end);
  return probesIn(elf.get(), size, provider, name);
}

}  // namespace probemon::tool
