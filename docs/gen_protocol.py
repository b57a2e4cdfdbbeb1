import os, glob
F = 'tests/fixtures/wire'
def fx(p): return open(p).read().strip()
R = [(os.path.basename(p), fx(p)) for p in sorted(glob.glob(F + '/requests/*.json'))]
S = [(os.path.basename(p), fx(p)) for p in sorted(glob.glob(F + '/server/*.json'))]
def examples(items):
    return "".join("`%s`:\n\n```json\n%s\n```\n\n" % (k, v) for k, v in items)
tpl = open('docs/PROTOCOL.template.md').read()
doc = tpl.replace('@@REQUESTS@@', examples(R)).replace('@@REPLIES@@', examples([x for x in S if 'reply' in x[0]])).replace('@@EVENTS@@', examples([x for x in S if 'event' in x[0]]))
open('docs/PROTOCOL.md', 'w').write(doc)
