#!/usr/bin/env python3
"""A ctypes mirror of Tests/ConfkitTests/ConfkitTests.swift, run against the real
libconfkit where no Swift compiler is available.

Each test_* below makes the same C calls as the XCTest of the same name (the
Swift wrapper's conventions included: strings as UTF-8 pointer + length with a
non-NULL pointer for empty strings, NULL for absent optionals) and asserts the
same values. It proves that the XCTest expectations match the library's actual
behaviour; keep the two files in step when either changes.

Usage: cargo build --release && python3 bindings/swift/scripts/mirror_tests.py
       (CONFKIT_LIB=/path/to/libconfkit.so|.dylib to use another build)
The "confkit_test_panic called" panic message on stderr is expected.
"""
import os
import sys
import ctypes as C, json, base64, gc, traceback
_HERE = os.path.dirname(os.path.abspath(__file__))
_DEFAULT = os.path.join(_HERE, "..", "..", "..", "target", "release",
                        "libconfkit.dylib" if sys.platform == "darwin" else "libconfkit.so")
L = C.CDLL(os.environ.get("CONFKIT_LIB", _DEFAULT))
P = C.c_void_p
class Buf(C.Structure): _fields_=[("data",C.POINTER(C.c_uint8)),("len",C.c_size_t)]
def sig(name, res, *args):
    f=getattr(L,name); f.restype=res; f.argtypes=list(args); return f
for n in ["confkit_version","confkit_status_name","confkit_error_message","confkit_conference_info_id","confkit_conference_info_alias","confkit_conference_info_owner",
          "confkit_event_type","confkit_event_conference_id","confkit_event_json","confkit_event_external_id","confkit_event_conference_alias","confkit_event_token",
          "confkit_invite_results_external_id","confkit_permission_name","confkit_participant_status_name",
          "confkit_claims_subject","confkit_claims_conference_id","confkit_claims_issuer","confkit_claims_token_id"]:
    getattr(L,n).restype=C.c_char_p
L.confkit_status_name.argtypes=[C.c_int32]; L.confkit_permission_name.argtypes=[C.c_uint32]; L.confkit_participant_status_name.argtypes=[C.c_int32]
for n in ["confkit_error_message","confkit_error_code","confkit_conference_info_id","confkit_conference_info_alias","confkit_conference_info_owner","confkit_event_type","confkit_event_conference_id","confkit_event_json","confkit_event_external_id","confkit_event_conference_alias","confkit_event_token","confkit_event_kind","confkit_event_sequence","confkit_event_old_status","confkit_event_new_status","confkit_event_permissions","confkit_event_token_expires_at","confkit_event_first_available_sequence","confkit_claims_subject","confkit_claims_conference_id","confkit_claims_issuer","confkit_claims_token_id","confkit_claims_permissions","confkit_claims_issued_at","confkit_claims_not_before","confkit_claims_expires_at","confkit_conference_info_is_new","confkit_conference_info_is_protected","confkit_conference_info_participant_count","confkit_conference_info_present_count","confkit_invite_results_len","confkit_session_id","confkit_clock_now"]:
    getattr(L,n).argtypes=[P]
for n in ["confkit_error_free","confkit_event_free","confkit_conference_info_free","confkit_invite_results_free","confkit_invite_list_free","confkit_session_free","confkit_platform_free","confkit_clock_free","confkit_verifier_free","confkit_claims_free"]:
    getattr(L,n).argtypes=[P]
L.confkit_buffer_free.argtypes=[Buf]
L.confkit_event_sequence.restype=C.c_uint64; L.confkit_event_permissions.restype=C.c_uint32
L.confkit_event_token_expires_at.restype=C.c_uint64; L.confkit_event_first_available_sequence.restype=C.c_uint64
L.confkit_claims_permissions.restype=C.c_uint32
for n in ["confkit_claims_issued_at","confkit_claims_not_before","confkit_claims_expires_at","confkit_session_id","confkit_clock_now"]: getattr(L,n).restype=C.c_uint64
L.confkit_conference_info_is_new.restype=C.c_bool; L.confkit_conference_info_is_protected.restype=C.c_bool
for n in ["confkit_conference_info_participant_count","confkit_conference_info_present_count","confkit_invite_results_len","confkit_invite_results_sessions"]: getattr(L,n).restype=C.c_size_t
for n in ["confkit_invite_results_external_id","confkit_invite_results_delivery","confkit_invite_results_sessions","confkit_invite_results_permissions"]: getattr(L,n).argtypes=[P,C.c_size_t]
L.confkit_invite_results_permissions.restype=C.c_uint32
L.confkit_live_objects.restype=C.c_int64

class CkErr(Exception):
    def __init__(s, code, msg): super().__init__(f"{L.confkit_status_name(code).decode()}: {msg}"); s.code=code; s.name=L.confkit_status_name(code).decode(); s.msg=msg
def ffi(fn):
    e=P()
    st=fn(C.byref(e))
    msg = L.confkit_error_message(e).decode() if e.value else ""
    if e.value: L.confkit_error_free(e)
    if st!=0: raise CkErr(st,msg)
def arg(s):
    if s is None: return (None,0)
    b = s.encode() if isinstance(s,str) else bytes(s)
    buf = C.create_string_buffer(b, len(b)+1)   # trailing NUL, never NULL
    return (C.cast(buf,C.POINTER(C.c_uint8)), len(b), buf)
def s(p): return p.decode() if p is not None else None
def take(b):
    d = bytes(C.cast(b.data, C.POINTER(C.c_uint8*b.len)).contents) if b.len else b""
    L.confkit_buffer_free(b); return d

class Clock:
    def __init__(self, now):
        o=P(); ffi(lambda e: L.confkit_clock_new(C.c_uint64(now), C.byref(o), e)); self.h=o
    @property
    def now(self): return L.confkit_clock_now(self.h)
    def set(self,n): ffi(lambda e: L.confkit_clock_set(self.h, C.c_uint64(n), e))
    def advance(self,n): ffi(lambda e: L.confkit_clock_advance(self.h, C.c_uint64(n), e))
    def __del__(self):
        if getattr(self, 'h', None): L.confkit_clock_free(self.h)

class POpts(C.Structure): _fields_=[("token_ttl_secs",C.c_uint64),("leeway_secs",C.c_uint64),("empty_ttl_secs",C.c_uint64),("max_queued_events",C.c_uint64),("token_refresh_lead_secs",C.c_uint64)]
class COpts(C.Structure): _fields_=[("is_protected",C.c_bool),("audio_only",C.c_bool),("participant_limit",C.c_uint32),("empty_ttl_secs",C.c_uint64),("token_ttl_secs",C.c_uint64)]

class Platform:
    def __init__(self, seed=None, kid="k1", clock=None, empty_ttl=None):
        if seed is not None and len(seed)!=32: raise CkErr(16,"seed len")
        o=P(); k=arg(kid); sd=arg(seed) if seed is not None else (None,0)
        opts = C.byref(POpts(0,0,empty_ttl)) if empty_ttl else None
        ffi(lambda e: L.confkit_platform_new_with(sd[0], k[0], C.c_size_t(k[1]), clock.h if clock else None, opts, C.byref(o), e)); self.h=o
    def __del__(self):
        if getattr(self, 'h', None): L.confkit_platform_free(self.h)
    def rest(self, m, path, body=None):
        st=C.c_uint16(); b=Buf(); a=arg(m); p=arg(path); bd=arg(body) if body is not None else (None,0)
        ffi(lambda e: L.confkit_platform_handle_rest(self.h,a[0],C.c_size_t(a[1]),p[0],C.c_size_t(p[1]),bd[0],C.c_size_t(bd[1]),C.byref(st),C.byref(b),e))
        return st.value, take(b)
    def jwks(self):
        b=Buf(); ffi(lambda e: L.confkit_platform_jwks(self.h,C.byref(b),e)); return take(b)
    def expire(self):
        n=C.c_size_t(); ffi(lambda e: L.confkit_platform_expire_conferences(self.h,C.byref(n),e)); return n.value
    def open(self, ext, name="", avatar=None): return Session(self, ext, name, avatar)

LISTENER = C.CFUNCTYPE(None, P, C.c_uint64); RELEASE = C.CFUNCTYPE(None, P)
_keep=[]
class Session:
    def __init__(self, p, ext, name, avatar):
        o=P(); a=arg(ext); n=arg(name); av=arg(avatar)
        ffi(lambda e: L.confkit_session_open(p.h,a[0],C.c_size_t(a[1]),n[0],C.c_size_t(n[1]),av[0],C.c_size_t(av[1]),C.byref(o),e)); self.h=o
        self.id=L.confkit_session_id(self.h)
    def __del__(self):
        if getattr(self, 'h', None): L.confkit_session_free(self.h)
    def close(self): ffi(lambda e: L.confkit_session_close(self.h,e))
    def next(self):
        o=P(); ffi(lambda e: L.confkit_session_next_event(self.h,C.byref(o),e))
        if not o.value: return None
        ev=event(o); L.confkit_event_free(o); return ev
    def drain(self):
        out=[]
        while True:
            x=self.next()
            if x is None: return out
            out.append(x)
    def pending(self):
        n=C.c_size_t(); ffi(lambda e: L.confkit_session_pending_events(self.h,C.byref(n),e)); return n.value
    def set_listener(self, fn, on_release=None):
        if fn is None:
            ffi(lambda e: L.confkit_session_set_listener(self.h, None, None, None, e)); return
        cb=LISTENER(lambda ud,sid: fn(sid)); rl=RELEASE(lambda ud: on_release and on_release()); _keep.extend([cb,rl])
        ffi(lambda e: L.confkit_session_set_listener(self.h, cb, None, rl, e))
    def create(self, alias, prot=False, limit=0, empty_ttl=0):
        o=COpts(prot,False,limit,empty_ttl,0); info=P(); b=Buf(); a=arg(alias)
        ffi(lambda e: L.confkit_conference_create(self.h,a[0],C.c_size_t(a[1]),C.byref(o),C.byref(info),C.byref(b),e))
        t=take(b); i=cinfo(info); L.confkit_conference_info_free(info); return i, (t.decode() if t else None)
    def fetch(self, id=None, alias=None):
        info=P(); a=arg(id); b=arg(alias)
        ffi(lambda e: L.confkit_conference_fetch(self.h,a[0],C.c_size_t(a[1]),b[0],C.c_size_t(b[1]),C.byref(info),e))
        i=cinfo(info); L.confkit_conference_info_free(info); return i
    def _enter(self, fn, id, token):
        bits=C.c_uint32(); a=arg(id); t=arg(token)
        ffi(lambda e: fn(self.h,a[0],C.c_size_t(a[1]),t[0],C.c_size_t(t[1]),C.byref(bits),e)); return bits.value
    def join(self,id,token=None): return self._enter(L.confkit_conference_join,id,token)
    def listen(self,id,token=None): return self._enter(L.confkit_conference_listen,id,token)
    def report(self,id,r):
        st=C.c_int32(-1); a=arg(id); ffi(lambda e: L.confkit_conference_report(self.h,a[0],C.c_size_t(a[1]),C.c_int32(r),C.byref(st),e)); return STATUS[st.value]
    def _simple(self, fn, id): a=arg(id); ffi(lambda e: fn(self.h,a[0],C.c_size_t(a[1]),e))
    def leave(self,id): self._simple(L.confkit_conference_leave,id)
    def decline(self,id): self._simple(L.confkit_conference_decline,id)
    def terminate(self,id): self._simple(L.confkit_conference_terminate,id)
    def kick(self,id,ext):
        a=arg(id); x=arg(ext); ffi(lambda e: L.confkit_conference_kick(self.h,a[0],C.c_size_t(a[1]),x[0],C.c_size_t(x[1]),e))
    def update(self,id,ext,perms):
        # ABI 2: no token out; the target gets it in permissionsUpdated.
        a=arg(id); x=arg(ext)
        ffi(lambda e: L.confkit_conference_update_permissions(self.h,a[0],C.c_size_t(a[1]),x[0],C.c_size_t(x[1]),C.c_uint32(perms),e))
    def invite(self,id,invitees):
        l=P(); ffi(lambda e: L.confkit_invite_list_new(C.byref(l),e))
        try:
            for ext,perms in invitees:
                x=arg(ext); ffi(lambda e: L.confkit_invite_list_add(l,x[0],C.c_size_t(x[1]),C.c_bool(perms is not None),C.c_uint32(perms or 0),e))
            r=P(); a=arg(id); ffi(lambda e: L.confkit_conference_invite(self.h,a[0],C.c_size_t(a[1]),l,C.byref(r),e))
        finally: L.confkit_invite_list_free(l)
        out=[]
        for i in range(L.confkit_invite_results_len(r)):
            d=L.confkit_invite_results_delivery(r,i)
            dl={0:("delivered",L.confkit_invite_results_sessions(r,i)),1:"noOpenSession",2:"notRequested",3:"alreadyInConference"}.get(d,("unknown",d))
            out.append((s(L.confkit_invite_results_external_id(r,i)), dl, L.confkit_invite_results_permissions(r,i)))
        L.confkit_invite_results_free(r); return out

STATUS=["reserved","connecting","onAir","inactive","decline","left","kicked","warning","error"]
def cinfo(h): return dict(id=s(L.confkit_conference_info_id(h)),alias=s(L.confkit_conference_info_alias(h)),owner=s(L.confkit_conference_info_owner(h)),isNew=L.confkit_conference_info_is_new(h),isProtected=L.confkit_conference_info_is_protected(h),pc=L.confkit_conference_info_participant_count(h),present=L.confkit_conference_info_present_count(h))
def event(h):
    k=L.confkit_event_kind(h); ext=s(L.confkit_event_external_id(h)); al=s(L.confkit_event_conference_alias(h)); tok=s(L.confkit_event_token(h))
    o=L.confkit_event_old_status(h); n=L.confkit_event_new_status(h); pm=L.confkit_event_permissions(h)
    exp=L.confkit_event_token_expires_at(h); fa=L.confkit_event_first_available_sequence(h); js=s(L.confkit_event_json(h))
    st=lambda v: STATUS[v] if 0<=v<9 else None
    # As Event.swift: tokenRefreshed needs its token; eventsMissed reads firstMissedSequence from the JSON.
    kind={1:("conferenceCreated",al),2:("conferenceEnded",),3:("invitationReceived",al,ext,tok,pm),4:("participantAdded",ext,st(n),pm),5:("participantUpdated",ext,st(o),st(n),pm),6:("permissionsUpdated",pm,tok),7:("switched",ext),
          8:("participantRemoved",ext),9:("tokenRefreshed",tok,pm,exp) if tok is not None else ("unknown",k),10:("eventsMissed",json.loads(js).get("firstMissedSequence",0),fa)}.get(k,("unknown",k))
    if k!=9: assert exp==0, (k,exp)      # the ABI 2 getters answer 0 for every other kind
    if k!=10: assert fa==0, (k,fa)
    return dict(seq=L.confkit_event_sequence(h),conf=s(L.confkit_event_conference_id(h)),type=s(L.confkit_event_type(h)),json=js,kind=kind)
def no_token(evs, tok, who):
    for e in evs:
        assert tok not in e["json"] and tok not in [x for x in e["kind"] if isinstance(x,str)], f"{who} received a token not meant for it: {e}"
def kinds(evs): return [e["kind"] for e in evs]

class Verifier:
    def __init__(self, jwks=None, kid=None, pub=None):
        o=P()
        if jwks is not None:
            a=arg(jwks); ffi(lambda e: L.confkit_verifier_from_jwks(a[0],C.c_size_t(a[1]),C.byref(o),e))
        else:
            if len(pub)!=32: raise CkErr(16,"len")
            k=arg(kid); p=arg(pub); ffi(lambda e: L.confkit_verifier_from_public_key(k[0],C.c_size_t(k[1]),p[0],C.byref(o),e))
        self.h=o
    def __del__(self):
        if getattr(self, 'h', None): L.confkit_verifier_free(self.h)
    def verify(self, token, conf=None, now=0, leeway=60):
        o=P(); t=arg(token); c=arg(conf)
        ffi(lambda e: L.confkit_verifier_verify(self.h,t[0],C.c_size_t(t[1]),C.c_uint64(now),c[0],C.c_size_t(c[1]),C.c_uint64(leeway),C.byref(o),e))
        h=o; r=dict(sub=s(L.confkit_claims_subject(h)),conf=s(L.confkit_claims_conference_id(h)),iss=s(L.confkit_claims_issuer(h)),jti=s(L.confkit_claims_token_id(h)),perms=L.confkit_claims_permissions(h),iat=L.confkit_claims_issued_at(h),nbf=L.confkit_claims_not_before(h),exp=L.confkit_claims_expires_at(h))
        L.confkit_claims_free(h); return r
    def enable_cache(self, capacity):
        if capacity<0: raise CkErr(3,"negative")
        ffi(lambda e: L.confkit_verifier_enable_cache(self.h,C.c_size_t(capacity),e))
    def verify_batch(self, tokens, conf=None, now=0, leeway=60):
        # Verifier.verifyBatch: one result per token, ("ok", claims) or ("err", status name).
        n=len(tokens)
        if n>MAX_BATCH: raise CkErr(17,"too many")
        data=[t.encode() for t in tokens]; bufs=[C.create_string_buffer(d,len(d)+1) for d in data]
        ptrs=(C.c_void_p*max(n,1))(*[C.cast(b,C.c_void_p) for b in bufs]); lens=(C.c_size_t*max(n,1))(*[len(d) for d in data])
        sts=(C.c_int32*max(n,1))(); cls=(C.c_void_p*max(n,1))(); c=arg(conf)
        ffi(lambda e: L.confkit_verifier_verify_batch(self.h,ptrs,lens,C.c_size_t(n),C.c_uint64(now),c[0],C.c_size_t(c[1]),C.c_uint64(leeway),sts,cls,e))
        out=[]
        for i in range(n):
            h=cls[i]
            if h:
                out.append(("ok",dict(sub=s(L.confkit_claims_subject(h)),conf=s(L.confkit_claims_conference_id(h)),iss=s(L.confkit_claims_issuer(h)),jti=s(L.confkit_claims_token_id(h)),perms=L.confkit_claims_permissions(h),iat=L.confkit_claims_issued_at(h),nbf=L.confkit_claims_not_before(h),exp=L.confkit_claims_expires_at(h))))
                L.confkit_claims_free(h)
            else:
                assert sts[i]!=0, f"token {i}: no claims but status OK"
                out.append(("err",L.confkit_status_name(sts[i]).decode()))
        return out

def throws(name, f):
    try: f()
    except CkErr as e:
        assert e.name==name, f"expected {name}, got {e}"; assert e.msg, "empty message"; return e
    raise AssertionError(f"expected {name}, no error")


# ---- the tests, one per XCTest ----
START=1_700_000_000
ALL=4095; DEF=1022; INVITE=1; JOIN=2; AUDIO=4; KICK=1<<10; UPDATE=1<<11
def seed(first=1): return bytes(((i+first)&255) for i in range(32))
def J(b): return json.loads(b)

def test_sdk():
    clock=Clock(START); p=Platform(seed(),"k1",clock)
    alice=p.open("alice","Alice"); bob=p.open("bob","Bob"); carol=p.open("carol","Carol","https://example.com/carol.png")
    assert alice.id!=bob.id
    info,owner=alice.create("All-Hands",prot=True); id=info["id"]
    assert len(id)==36 and info["alias"]=="All-Hands" and info["owner"]=="alice" and info["isNew"] and info["isProtected"] and info["pc"]==1 and info["present"]==0 and owner
    ev=alice.drain(); assert len(ev)==1 and ev[0]["kind"]==("conferenceCreated","All-Hands") and ev[0]["seq"]==1 and ev[0]["conf"]==id and ev[0]["type"]=="conferenceCreated" and '"type":"conferenceCreated"' in ev[0]["json"]
    wake=[]; bob.set_listener(lambda sid: wake.append(sid))
    throws("NOT_IN_CONFERENCE", lambda: alice.invite(id,[("bob",None)]))
    assert alice.join(id,owner)==ALL; assert alice.report(id,2)=="onAir"
    assert kinds(alice.drain())==[("participantUpdated","alice","reserved","connecting",ALL),("participantUpdated","alice","connecting","onAir",ALL)]
    cp=JOIN|AUDIO
    res=alice.invite(id,[("bob",None),("carol",cp),("dave",None)])
    assert [r[0] for r in res]==["bob","carol","dave"]
    assert [r[1] for r in res]==[("delivered",1),("delivered",1),"noOpenSession"], res
    assert [r[2] for r in res]==[DEF,cp,DEF]; assert all(len(r)==3 for r in res)   # no token in the results
    assert wake==[bob.id]
    ae=alice.drain()
    assert kinds(ae)==[("participantAdded","bob","reserved",DEF),("participantAdded","carol","reserved",cp),("participantAdded","dave","reserved",DEF)]
    assert bob.pending()==1
    inv=bob.next(); k=inv["kind"]; assert k[:3]==("invitationReceived","All-Hands","alice") and k[4]==DEF and inv["seq"]==1; assert bob.next() is None
    bobtok=k[3]; assert bobtok and json.loads(inv["json"])["token"]==bobtok
    ce=kinds(carol.drain()); assert len(ce)==1 and ce[0][:3]==("invitationReceived","All-Hands","alice") and ce[0][4]==cp
    caroltok=ce[0][3]; assert caroltok and caroltok!=bobtok
    no_token(ae,bobtok,"alice"); no_token(ae,caroltok,"alice")
    assert bob.join(id,bobtok)==DEF; bob.report(id,2); assert len(wake)==3, wake
    bu=[("participantUpdated","bob","reserved","connecting",DEF),("participantUpdated","bob","connecting","onAir",DEF)]
    ae=alice.drain(); assert kinds(ae)==bu; no_token(ae,bobtok,"alice"); be=bob.drain(); assert kinds(be)==bu and [e["seq"] for e in be]==[2,3]
    again,t=alice.create("all-hands",prot=True); assert not again["isNew"] and again["id"]==id and t and t!=owner
    assert kinds(alice.drain())==[("tokenRefreshed",t,ALL,START+10800)]   # connected: the fresh owner token comes as an event too
    other,t2=bob.create("ALL-HANDS",prot=True); assert not other["isNew"] and other["id"]==id and t2 is None
    f=bob.fetch(alias="ALL-HANDS"); assert f["id"]==id and f["owner"]=="alice" and not f["isNew"] and f["pc"]==4 and f["present"]==2, f
    assert carol.fetch(id=id)==f
    carol.decline(id); cd=("participantUpdated","carol","reserved","decline",cp)
    assert kinds(alice.drain())==[cd]; assert kinds(bob.drain())==[cd]
    throws("NOT_ALLOWED", lambda: bob.kick(id,"carol"))
    bp=INVITE|JOIN|AUDIO; assert alice.update(id,"bob",bp) is None
    # bob gets his token in permissionsUpdated, and (like everyone who sees him) his new set in participantUpdated.
    pu=[k for k in kinds(bob.drain()) if k[0]=="permissionsUpdated"]; assert len(pu)==1 and pu[0][:2]==("permissionsUpdated",bp); nt=pu[0][2]; assert nt and nt!=bobtok
    no_token(alice.drain(),nt,"alice")
    throws("NOT_ALLOWED", lambda: alice.update(id,"alice",DEF))
    alice.kick(id,"bob"); bk=("participantUpdated","bob","onAir","kicked",bp)
    assert kinds(alice.drain())==[bk]; assert kinds(bob.drain())==[bk]
    throws("TOKEN_REVOKED", lambda: bob.join(id,bobtok)); throws("TOKEN_REVOKED", lambda: bob.join(id,nt))
    throws("TOKEN_INVALID", lambda: carol.join(id)); throws("INVALID_TRANSITION", lambda: alice.report(id,4))
    throws("NOT_ALLOWED", lambda: bob.terminate(id)); alice.terminate(id)
    for x in (alice,bob,carol): assert kinds(x.drain())==[("conferenceEnded",)]
    throws("CONFERENCE_NOT_FOUND", lambda: alice.fetch(id=id)); throws("CONFERENCE_NOT_FOUND", lambda: alice.join(id,owner))
    bob.close(); throws("SESSION_NOT_FOUND", bob.close); throws("SESSION_NOT_FOUND", bob.next); throws("SESSION_NOT_FOUND", lambda: bob.set_listener(lambda s: None))

def test_unprotected():
    p=Platform(None,"k1",Clock(START)); alice=p.open("alice","Alice"); phone=p.open("bob","Bob"); laptop=p.open("bob","Bob"); carol=p.open("carol")
    info,tok=alice.create("open"); assert info["isNew"] and not info["isProtected"] and tok is None; id=info["id"]
    alice.join(id); alice.report(id,2)
    assert carol.listen(id)==DEF
    res=alice.invite(id,[("bob",None)]); assert len(res)==1 and res[0][1]==("delivered",2), res
    exp=("invitationReceived","open","alice",None,0)
    assert kinds(phone.drain())==[exp]; assert kinds(laptop.drain())==[exp]
    phone.join(id); tw=alice.invite(id,[("bob",None)]); assert tw[0][1]=="alreadyInConference", tw
    laptop.join(id); pe=kinds(phone.drain()); assert ("switched","bob") in pe, pe
    laptop.drain(); alice.update(id,"bob",JOIN)
    assert ("permissionsUpdated",JOIN,None) in kinds(laptop.drain())
    laptop.leave(id); f=alice.fetch(id=id); assert f["present"]==2, f

def test_expire():
    clock=Clock(START); p=Platform(None,"k1",clock,empty_ttl=600); alice=p.open("alice")
    info,_=alice.create("brief",empty_ttl=30); id=info["id"]; alice.drain()
    clock.advance(10); assert clock.now==START+10; assert p.expire()==0
    clock.set(START+31); assert p.expire()==1
    assert kinds(alice.drain())==[("conferenceEnded",)]
    throws("CONFERENCE_NOT_FOUND", lambda: alice.fetch(id=id))

def test_capacity():
    p=Platform(None,"k1"); alice=p.open("alice"); bob=p.open("bob")
    id=alice.create("tiny",limit=1)[0]["id"]; alice.join(id); throws("AT_MAX_CAPACITY", lambda: bob.join(id))

def test_listener_release():
    p=Platform(None,"k1"); s=p.open("alice"); rel=[]
    s.set_listener(lambda x: None, lambda: rel.append(1)); assert rel==[]
    s.set_listener(lambda x: None, lambda: rel.append(2)); assert rel==[1]
    s.set_listener(None); assert rel==[1,2]
    s.set_listener(lambda x: None, lambda: rel.append(3)); s.close(); assert rel==[1,2,3]

def test_listener_reentrant():
    p=Platform(None,"k1"); alice=p.open("alice"); bob=p.open("bob"); got=[]
    bob.set_listener(lambda sid: got.extend(bob.drain()))
    id=alice.create("room")[0]["id"]; alice.join(id); alice.invite(id,[("bob",None)])
    assert kinds(got)==[("invitationReceived","room","alice",None,0)], kinds(got); assert bob.pending()==0; bob.set_listener(None)

def test_rest():
    p=Platform(seed(),"k1",Clock(START)); alice=p.open("alice","Alice"); bob=p.open("bob","Bob")
    body='''{"ownerExternalId":"alice","alias":"rest-room","parameters":{"ttl":600,"participantLimit":10},
      "participants":{"bob":{"permissions":["JOIN","SEND_AUDIO"],"notification":true},"erin":{"notification":true}}}'''
    st,b=p.rest("POST","/v2/conferences/create",body.encode()); assert st==200,b; a=J(b)
    id=a["conferenceId"]; assert a["conferenceAlias"]=="rest-room" and a["isProtected"] is True and a["isNew"] is True
    owner=a["ownerToken"]; ut=a["usersTokens"]; assert set(ut)=={"bob","erin"}; assert a["delivery"]=={"bob":"DELIVERED","erin":"NO_OPEN_SESSION"}
    bt=ut["bob"]; bp=JOIN|AUDIO
    assert kinds(bob.drain())==[("invitationReceived","rest-room","alice",bt,bp)]
    assert bob.join(id,bt)==bp; assert alice.join(id,owner)==ALL
    st,b=p.rest("GET",f"/v2/conferences/{id}/participants"); assert st==200; parts=J(b)["participants"]
    stt={x["externalId"]:x["status"] for x in parts}; assert stt=={"alice":"CONNECTING","bob":"CONNECTING","erin":"RESERVED"}, stt
    be=[x for x in parts if x["externalId"]=="bob"][0]; assert be["permissions"]==["JOIN","SEND_AUDIO"] and be["type"]=="USER"
    _=bob.drain()
    st,b=p.rest("POST",f"/v2/conferences/{id}/permissions",b'{"participants": {"bob": {"permissions": ["JOIN"]}}}'); assert st==200,b
    nbt=J(b)["usersTokens"]["bob"]; alice.drain(); bk=kinds(bob.drain()); assert [k for k in bk if k[0]=="permissionsUpdated"]==[("permissionsUpdated",JOIN,nbt)], bk
    st,b=p.rest("POST",f"/v2/conferences/{id}/kick",b'{"externalIds": ["bob"]}'); assert st==204 and b==b""
    throws("TOKEN_REVOKED", lambda: bob.join(id,nbt))
    st,b=p.rest("POST","/v2/conferences/00000000-0000-4000-8000-000000000000/invite",b'{"participants": {"bob": {}}}'); assert st==404,(st,b)
    nb=J(b); assert nb["error_code"]==11 and nb["error_reason"]=="CONFERENCE_NOT_FOUND" and isinstance(nb["error_description"],str)
    st,b=p.rest("POST",f"/v2/conferences/{id}/invite",b'{"participants": {"frank": {"permissions": ["FLY"]}}}'); assert st==400 and J(b)["error_reason"]=="UNKNOWN_PERMISSION",(st,b)
    st,b=p.rest("POST","/v2/conferences/create",b"{"); assert st==400 and J(b)["error_reason"]=="INVALID_ARGUMENT",(st,b)
    st,b=p.rest("GET","/.well-known/jwks.json"); assert st==200; k=J(b)["keys"]; assert len(k)==1 and k[0]["kid"]=="k1" and k[0]["kty"]=="OKP" and k[0]["crv"]=="Ed25519"
    assert b==p.jwks()
    st,b=p.rest("DELETE",f"/v2/conferences/{id}"); assert st==204 and b==b""
    assert alice.drain()[-1]["kind"]==("conferenceEnded",)
    st,b=p.rest("GET",f"/v2/conferences/{id}/participants"); assert st==404

def test_verify():
    clock=Clock(START); p=Platform(seed(),"k1",clock); alice=p.open("alice")
    info,tok=alice.create("verify",prot=True); id=info["id"]
    v=Verifier(jwks=p.jwks()); c=v.verify(tok,id,START)
    assert c["sub"]=="alice" and c["conf"]==id and c["iss"]=="confkit" and c["jti"] and c["perms"]==ALL and c["iat"]==START and c["nbf"]==START and c["exp"]==START+10800, c
    assert v.verify(tok,None,START)==c
    throws("TOKEN_WRONG_CONFERENCE", lambda: v.verify(tok,"00000000-0000-4000-8000-000000000000",START))
    throws("INVALID_ARGUMENT", lambda: v.verify(tok,"not-a-uuid",START))
    throws("TOKEN_EXPIRED", lambda: v.verify(tok,None,c["exp"]+61))
    v.verify(tok,None,c["exp"]+30)
    throws("TOKEN_EXPIRED", lambda: v.verify(tok,None,c["exp"]+30,0))
    throws("TOKEN_INVALID", lambda: v.verify("not.a.token",None,START))
    h,pl,sg=tok.split("."); throws("TOKEN_INVALID", lambda: v.verify(h+"."+pl+"."+sg[::-1],None,START))
    imp=Platform(seed(100),"k1",clock); m=imp.open("alice"); forged=m.create("verify",prot=True)[1]
    throws("TOKEN_INVALID", lambda: v.verify(forged,None,START))
    x=J(p.jwks())["keys"][0]["x"]; pub=base64.urlsafe_b64decode(x+"="*(-len(x)%4)); assert len(pub)==32
    kv=Verifier(kid="k1",pub=pub); assert kv.verify(tok,id,START)==c
    ov=Verifier(kid="k2",pub=pub); throws("TOKEN_INVALID", lambda: ov.verify(tok,None,START))
    throws("KEY_INVALID", lambda: Verifier(kid="k1",pub=b"\0"*31))
    throws("KEY_INVALID", lambda: Verifier(jwks='{"keys": [{"kty": "RSA", "kid": "r"}]}'))
    throws("KEY_INVALID", lambda: Platform(b"\0"*5,"k1"))
    throws("KEY_INVALID", lambda: Platform(None,""))

def test_verifier_cache():
    clock=Clock(START); p=Platform(seed(),"k1",clock); alice=p.open("alice")
    info,tok=alice.create("cache",prot=True); id=info["id"]
    v=Verifier(jwks=p.jwks()); MAX=1<<20
    throws("INVALID_ARGUMENT", lambda: v.enable_cache(0))
    throws("TOO_LARGE", lambda: v.enable_cache(MAX+1))
    v.enable_cache(16)
    throws("INVALID_ARGUMENT", lambda: v.enable_cache(16))
    first=v.verify(tok,id,START); assert v.verify(tok,id,START)==first and first["sub"]=="alice", first
    throws("TOKEN_WRONG_CONFERENCE", lambda: v.verify(tok,"00000000-0000-4000-8000-000000000000",START))
    throws("TOKEN_EXPIRED", lambda: v.verify(tok,None,first["exp"]+61))
    h,pl,sg=tok.split("."); throws("TOKEN_INVALID", lambda: v.verify(h+"."+pl+"."+sg[::-1],None,START))

MAX_BATCH=4096
def test_verify_batch():
    clock=Clock(START); p=Platform(seed(),"k1",clock); alice=p.open("alice")
    ia,a=alice.create("batch-a",prot=True); ib,b=alice.create("batch-b",prot=True)
    h,pl,sg=a.split("."); forged=h+"."+pl+"."+sg[::-1]
    v=Verifier(jwks=p.jwks())
    r=v.verify_batch([a,forged,b,""],None,START)
    assert r==[("ok",v.verify(a,None,START)),("err","TOKEN_INVALID"),("ok",v.verify(b,None,START)),("err","TOKEN_INVALID")], r
    assert r[0][1]["conf"]==ia["id"]
    r=v.verify_batch([a,b],ia["id"],START); assert r[0][0]=="ok" and r[0][1]["sub"]=="alice" and r[1]==("err","TOKEN_WRONG_CONFERENCE"), r
    exp=v.verify(a,None,START)["exp"]; assert v.verify_batch([a],None,exp+61)==[("err","TOKEN_EXPIRED")]
    assert v.verify_batch([],None,START)==[]
    throws("INVALID_ARGUMENT", lambda: v.verify_batch([a],"not-a-uuid",START))
    throws("TOO_LARGE", lambda: v.verify_batch([a]*(MAX_BATCH+1),None,START))

def test_errors():
    p=Platform(None,"k1"); alice=p.open("alice")
    e=throws("CONFERENCE_NOT_FOUND", lambda: alice.join("00000000-0000-4000-8000-000000000000")); assert "00000000-0000-4000-8000-000000000000" in e.msg
    throws("INVALID_ARGUMENT", lambda: alice.join("not-a-uuid"))
    throws("INVALID_ARGUMENT", lambda: alice.leave(""))
    throws("INVALID_ARGUMENT", lambda: p.open(""))
    throws("CONFERENCE_NOT_FOUND", lambda: alice.fetch(alias="nowhere"))
    id=alice.create("bits")[0]["id"]; alice.join(id)
    throws("UNKNOWN_PERMISSION", lambda: alice.invite(id,[("bob",1<<12)]))
    throws("UNKNOWN_PERMISSION", lambda: alice.update(id,"alice",1<<20))
    throws("PARTICIPANT_NOT_FOUND", lambda: alice.kick(id,"nobody"))
    e=throws("PANIC", lambda: ffi(lambda e: L.confkit_test_panic(e))); assert "confkit_test_panic" in e.msg

def test_names():
    names=["INVITE","JOIN","SEND_AUDIO","SEND_VIDEO","SHARE_SCREEN","SHARE_VIDEO","SHARE_FILE","SEND_MESSAGE","RECORD","STREAM","KICK","UPDATE_PERMISSIONS"]
    assert [L.confkit_permission_name(i).decode() for i in range(12)]==names
    def frm(n):
        b=C.c_uint32(); a=arg(n); ffi(lambda e: L.confkit_permission_from_name(a[0],C.c_size_t(a[1]),C.byref(b),e)); return b.value
    assert [frm(n) for n in names]==list(range(12))
    throws("UNKNOWN_PERMISSION", lambda: frm("FLY")); throws("UNKNOWN_PERMISSION", lambda: frm("join"))
    sn=["RESERVED","CONNECTING","ON_AIR","INACTIVE","DECLINE","LEFT","KICKED","WARNING","ERROR"]
    assert [L.confkit_participant_status_name(i).decode() for i in range(9)]==sn
    def sf(n):
        b=C.c_int32(); a=arg(n); ffi(lambda e: L.confkit_participant_status_from_name(a[0],C.c_size_t(a[1]),C.byref(b),e)); return b.value
    assert [sf(n) for n in sn]==list(range(9)); assert sf("CONNECTED")==2; throws("INVALID_ARGUMENT", lambda: sf("NOPE"))
    st=["NULL_ARGUMENT","INVALID_UTF8","INVALID_ARGUMENT","UNKNOWN_PERMISSION","TOKEN_INVALID","TOKEN_EXPIRED","TOKEN_REVOKED","TOKEN_WRONG_CONFERENCE","NOT_ALLOWED","NOT_IN_CONFERENCE","CONFERENCE_NOT_FOUND","AT_MAX_CAPACITY","INVALID_TRANSITION","SESSION_NOT_FOUND","PARTICIPANT_NOT_FOUND","KEY_INVALID","TOO_LARGE","CLOSED","ALIAS_TAKEN","STORE_UNAVAILABLE"]
    assert [L.confkit_status_name(i).decode() for i in range(1,21)]==st and L.confkit_status_name(99)==b"PANIC" and L.confkit_status_name(12345)==b"UNKNOWN" and L.confkit_status_name(21)==b"UNKNOWN"
    # As the Swift test: the loaded library's ABI is the header's (Confkit.headerABIVersion).
    import re
    with open(os.path.join(_HERE, "..", "..", "..", "include", "confkit.h")) as f:
        header_abi = int(re.search(r"#define CONFKIT_ABI_VERSION (\d+)", f.read()).group(1))
    assert L.confkit_abi_version() == header_abi and L.confkit_version().startswith(b"confkit ")

def test_kinds():
    # The ABI 2 getters with NULL, and with an event of another kind.
    assert L.confkit_event_token_expires_at(None)==0 and L.confkit_event_first_available_sequence(None)==0
    assert L.confkit_event_conference_id(None) is None and L.confkit_event_kind(None)==0
    p=Platform(None,"k1"); alice=p.open("alice"); alice.create("kinds")
    o=P(); ffi(lambda e: L.confkit_session_next_event(alice.h,C.byref(o),e))
    assert L.confkit_event_kind(o)==1 and L.confkit_event_token_expires_at(o)==0 and L.confkit_event_first_available_sequence(o)==0
    assert L.confkit_event_conference_id(o) is not None
    L.confkit_event_free(o)

def test_token_refresh():
    clock=Clock(START); p=Platform(seed(),"k1",clock); alice=p.open("alice"); bob=p.open("bob")
    info,owner=alice.create("refresh",prot=True); id=info["id"]; alice.join(id,owner)
    alice.invite(id,[("bob",JOIN|AUDIO)]); bt=bob.drain()[0]["kind"][3]; bob.join(id,bt); alice.drain(); bob.drain()
    # Due 5 minutes before the 3-hour token expires; any call runs it.
    clock.set(START+10800-300-1); p.expire(); assert bob.pending()==0
    clock.advance(1); p.expire()
    ev=bob.drain(); assert len(ev)==1 and ev[0]["type"]=="tokenRefreshed" and ev[0]["conf"]==id, ev
    k=ev[0]["kind"]; assert k[0]=="tokenRefreshed" and k[1]!=bt and k[2]==JOIN|AUDIO and k[3]==START+10800-300+10800, k
    w=J(ev[0]["json"]); assert w["token"]==k[1] and w["expiresAt"]==k[3] and w["permissions"]==["JOIN","SEND_AUDIO"]
    c=Verifier(jwks=p.jwks()).verify(k[1],id,clock.now); assert c["sub"]=="bob" and c["exp"]==k[3]
    ak=kinds(alice.drain()); assert len(ak)==1 and ak[0][0]=="tokenRefreshed" and ak[0][2]==ALL and ak[0][1]!=k[1], ak

def test_events_missed():
    p=Platform(None,"k1"); host=p.open("host"); lurker=p.open("lurker")
    id=host.create("busy")[0]["id"]; host.join(id); host.report(id,2); lurker.join(id)
    last=lurker.drain()[-1]["seq"]
    for _ in range(700): host.report(id,3); host.report(id,4)
    assert lurker.pending()==1024
    ev=lurker.drain(); m=ev[0]
    assert m["conf"] is None and m["type"]=="eventsMissed" and "conferenceId" not in m["json"], m
    assert m["kind"]==("eventsMissed",last+1,m["seq"]+1) and m["seq"]==last+1400-1023, (m, last)
    assert ev[1]["seq"]==m["seq"]+1 and len(ev)==1024 and all(e["conf"]==id for e in ev[1:])

def test_listeners():
    p=Platform(None,"k1"); alice=p.open("alice"); bob=p.open("bob"); erin=p.open("erin")
    id=alice.create("lobby")[0]["id"]; alice.join(id); bob.join(id); erin.listen(id); erin.drain(); alice.drain()
    # A listener acts on nobody.
    e=throws("NOT_ALLOWED", lambda: erin.invite(id,[("frank",None)])); assert "listening" in e.msg, e.msg
    throws("NOT_ALLOWED", lambda: erin.kick(id,"bob")); throws("NOT_ALLOWED", lambda: erin.update(id,"bob",DEF))
    # Nobody updates their own permissions, not even with UPDATE_PERMISSIONS.
    alice.update(id,"bob",DEF|UPDATE); erin.drain(); alice.drain()
    e=throws("NOT_ALLOWED", lambda: bob.update(id,"bob",JOIN)); assert "own permissions" in e.msg, e.msg
    # A user turned listener leaves the other listeners' view.
    bob.listen(id)
    ee=erin.drain(); assert kinds(ee)==[("participantRemoved","bob")] and ee[0]["conf"]==id and ee[0]["type"]=="participantRemoved", ee
    ak=kinds(alice.drain()); assert ("participantRemoved","bob") not in ak and any(k[0]=="participantUpdated" and k[1]=="bob" for k in ak), ak

def test_rest_alias_tokens():
    clock=Clock(START); p=Platform(seed(),"k1",clock); alice=p.open("alice")
    st,b=p.rest("POST","/v2/conferences/create",b'{"ownerExternalId":"alice","alias":"board","participants":{"bob":{},"carol":{}}}'); assert st==200,b
    a=J(b); id=a["conferenceId"]; owner=a["ownerToken"]
    st,b=p.rest("POST","/v2/conferences/create",b'{"ownerExternalId":"mallory","alias":"BOARD"}')
    assert st==409 and J(b)["error_code"]==19 and J(b)["error_reason"]=="ALIAS_TAKEN", (st,b)
    st,b=p.rest("POST","/v2/conferences/create",b'{"ownerExternalId":"alice","alias":"board"}')
    assert st==200 and J(b)["isNew"] is False and J(b)["conferenceId"]==id and J(b)["ownerToken"]!=owner, b
    alice.join(id,owner); alice.drain()
    st,b=p.rest("POST",f"/v2/conferences/{id}/tokens",b'{"externalIds":["alice","bob"]}'); assert st==200,b
    ut=J(b)["usersTokens"]; v=Verifier(jwks=p.jwks())
    assert v.verify(ut["bob"],id,START)["sub"]=="bob" and v.verify(ut["alice"],id,START)["perms"]==ALL
    assert kinds(alice.drain())==[("tokenRefreshed",ut["alice"],ALL,START+10800)]
    st,b=p.rest("POST",f"/v2/conferences/{id}/tokens",b'{"externalIds":["zed"]}'); assert st==404 and J(b)["error_reason"]=="PARTICIPANT_NOT_FOUND",(st,b)
    st,b=p.rest("POST",f"/v2/conferences/{id}/kick",b'{"externalIds":["carol"]}'); assert st==204,(st,b)
    st,b=p.rest("POST",f"/v2/conferences/{id}/tokens",b'{"externalIds":["carol"]}'); assert st==403 and J(b)["error_reason"]=="NOT_ALLOWED",(st,b)

def test_leaks():
    before=L.confkit_live_objects()
    def flow():
        clock=Clock(START); p=Platform(seed(),"k1",clock); alice=p.open("alice"); bob=p.open("bob"); bob.set_listener(lambda s: None)
        info,owner=alice.create("leaks",prot=True); id=info["id"]; alice.join(id,owner)
        alice.invite(id,[("bob",None),("carol",None)]); bt=bob.drain()[0]["kind"][3]; bob.join(id,bt)
        alice.update(id,"bob",JOIN); p.rest("GET",f"/v2/conferences/{id}/participants"); p.rest("GET","/nowhere")
        v=Verifier(jwks=p.jwks()); v.verify(owner,id,START); throws("TOKEN_EXPIRED", lambda: v.verify(owner,None,START+86400))
        alice.fetch(id=id); alice.terminate(id); alice.drain()
    flow(); gc.collect()
    assert L.confkit_live_objects()==before, (L.confkit_live_objects(), before)

def main():
  ok=fail=0
  for name,fn in list(globals().items()):
    if name.startswith("test_"):
        try: fn(); gc.collect(); ok+=1; print("PASS",name)
        except Exception: fail+=1; print("FAIL",name); traceback.print_exc()
  print(f"{ok} passed, {fail} failed")
  return 1 if fail else 0

if __name__ == "__main__":
    sys.exit(main())
