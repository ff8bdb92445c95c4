import socket,sys,time
def cmd(line):
    s=socket.socket(socket.AF_UNIX); s.connect('/tmp/hx/admin3.sock'); s.sendall((line+"\n").encode())
    out=b""
    while True:
        d=s.recv(65536)
        if not d: break
        out+=d
    return out.decode().strip()
def st(slot):
    for l in cmd("show stat").splitlines():
        f=l.split(",")
        if len(f)>17 and f[1]==slot: return f[17], f[18]
slot="s1"
cmd(f"set server be/{slot} addr 127.0.0.1 port 18099")
cmd(f"set server be/{slot} check-port 18099")
print(cmd(f"set server be/{slot} weight 0"))
print(cmd(f"enable server be/{slot}; set server be/{slot} health down"))
t=time.time()
for i in range(15):
    print(round(time.time()-t,2), st(slot)); time.sleep(0.1)
print(cmd(f"set server be/{slot} weight 1"))
print(st(slot))
