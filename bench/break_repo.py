"""Copy a generated repository and plant problems in ~1,200 records, deterministically
(for bench/check_same.sh): python3 bench/break_repo.py SRC DST"""
import os, random, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
if os.path.exists(dst): shutil.rmtree(dst)
shutil.copytree(src, dst, symlinks=True)
rnd = random.Random(42)
files = []
for d, _, fs in os.walk(os.path.join(dst, "customers")):
    for f in fs: files.append(os.path.join(d, f))
files.sort()
pick = rnd.sample(files, 1200)
it = iter(pick)
def rd(p): return open(p, encoding="utf-8").read()
def wr(p, t): open(p, "w", encoding="utf-8").write(t)
def field(t, k):
    for line in t.splitlines():
        if line.startswith(k + " = "): return line[len(k)+3:]
    return None
def setf(t, k, v):
    out=[]; done=False
    for line in t.splitlines():
        if not done and line.startswith(k + " = "):
            out.append(f"{k} = {v}"); done=True
        else: out.append(line)
    return "\n".join(out)+"\n"
n = 0
# 1. near-duplicates: copies with new ids and slightly changed names (fuzzy), same website/email/phone
for i in range(150):
    p = next(it); t = rd(p)
    name = field(t, "name").strip('"')
    kind = i % 6
    if kind == 0: nn = name[:-1] + ("x" if name[-1] != "x" else "y")
    elif kind == 1: nn = name + " Ltd"
    elif kind == 2: nn = name.upper()
    elif kind == 3: nn = name.replace(" ", "  ", 1) + "."
    elif kind == 4: nn = name[:2] + name[3:] if len(name) > 6 else name + "s"
    else: nn = "Global " + name
    t2 = setf(t, "id", f'"DUP{i:04d}"')
    t2 = setf(t2, "name", '"' + nn.replace('"', '') + '"')
    if i % 3 == 0:  # different website / email, to leave only the name
        t2 = t2.replace("@", "@x", 1).replace("https://www.", "https://www.x", 1)
    d = os.path.dirname(p)
    wr(os.path.join(d, f"dup-{i:04d}--copy--{os.path.basename(d)}.toml"), t2)
# 2. titles, registrations, groups
for i in range(100):
    p = next(it); t = rd(p)
    reg = f"HRB {i%40:03d}.{i%7}-A"
    t += f'\n[[titles]]\nname = "Title Holding {i%50} GmbH"\nregistration = "{reg}"\n'
    if i % 4 == 0: t = t.replace("created = ", f'group = "g{i%10}"\ncreated = ', 1)
    wr(p, t)
# 3. CJK names duplicated
for i in range(40):
    p = next(it); t = rd(p)
    cj = ["上海宏达进出口有限公司", "株式会社山田製作所", "주식회사 한빛", "ООО «Техснаб»", "شركة النور ذ.م.م", "Müller GmbH & Co. KG", "ＡＢＣ Ltd", "山田製作所(株)"][i % 8]
    t = setf(t, "name", f'"{cj}"')
    wr(p, t)
# 4. schema errors
errs = [
    lambda t: t + 'colour = "red"\n' if "[[" not in t else t.replace("[[", 'colour = "red"\n\n[[', 1),
    lambda t: setf(t, "tier", '"F"'),
    lambda t: setf(t, "country", '"de"'),
    lambda t: setf(t, "created", '"2024-01-01"'),
    lambda t: setf(t, "stage", '"lost"'),
    lambda t: setf(t, "owner", '"nobody"') if field(t, "owner") else setf(t, "tier", "3"),
    lambda t: t.replace("email = \"", "email = \"bad email ", 1),
    lambda t: t.replace("phone = \"", "phone = \"x", 1),
    lambda t: t.replace("date = 20", "date = 29", 1),
    lambda t: "\n".join(l for l in t.splitlines() if not l.startswith("contact = ")) + "\n",
    lambda t: t.replace("[[contacts]]\nname", "[[contacts]]\nnme", 1),
    lambda t: t.replace("replied = false", "replied = \"no\"", 1),
    lambda t: t.replace("tags = [", "tags = [\"Bad Tag\", ", 1),
    lambda t: t.replace("website = \"https://", "website = \"", 1),
    lambda t: t.replace("currency = \"USD\"", "currency = \"usd\"", 1),
    lambda t: t.replace("by = \"s", "by = \"x", 1),
    lambda t: t + "id = \"again\"\n",   # syntax: duplicate key
    lambda t: t.replace("name = \"", "name = ", 1),  # syntax
    lambda t: t.replace("[[followups]]\ndate = ", "[[followups]]\nnext = 2000-01-01\ndate = ", 1),
]
for i in range(600):
    p = next(it); t = rd(p)
    t = errs[i % len(errs)](t)
    if i % 37 == 0: t = errs[(i + 5) % len(errs)](t)
    wr(p, t)
# 5. duplicate ids, misnamed, case collision, unportable, invalid utf-8, non-toml, symlink
for i in range(20):
    p = next(it); t = rd(p)
    q = next(it); tq = rd(q)
    wr(q, setf(tq, "id", field(t, "id")))
for i in range(20):
    p = next(it); os.rename(p, p.replace(".toml", "-old.toml"))
for i in range(5):
    p = next(it); d, b = os.path.split(p); shutil.copy(p, os.path.join(d, b.upper().replace(".TOML", ".toml")))
p = next(it); d, b = os.path.split(p); os.rename(p, os.path.join(d, "con.toml"))
p = next(it); d, b = os.path.split(p); os.rename(p, os.path.join(d, "a:b.toml"))
p = next(it); open(p, "ab").write(b'\nsummary2 = "\xff\xfe"\n')
p = next(it); open(p.replace(".toml", ".txt"), "w").write("note\n")
# a link to a file outside the repository (relative, so the script names no
# path of this machine; whether the target exists does not matter to folio)
p = next(it); os.symlink(os.path.join("..", "..", "..", "outside-the-repository.toml"), os.path.join(os.path.dirname(p), "link.toml"))
print("ok")
