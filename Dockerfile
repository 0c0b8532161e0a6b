# The five binaries and nothing else: make dist builds them static (no
# libc to find), so the image starts FROM scratch. It runs as an
# unprivileged user, so the servers listen above 1024 (a Service or a
# -p 7:7007 maps port 7 to them).
#
#   make image     # podman (or docker) build of make dist's binaries
#   podman run --rm -p 7:7007 -p 9090:9090 echospec/echo
FROM scratch
COPY dist/tcpserver dist/tcpclient dist/udpserver dist/udpclient dist/echobench /
USER 65532:65532
EXPOSE 7007/tcp 7007/udp 9090/tcp
ENTRYPOINT ["/tcpserver"]
CMD ["-listen", ":7007", "-admin", ":9090"]
