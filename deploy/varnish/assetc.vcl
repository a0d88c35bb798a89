vcl 4.1;
# Varnish (7.1, as Debian 12 ships it) in front of N `assetc serve` replicas.
# Tested by tests/cache.rs.
import directors;

probe assetc_health {
    .url = "/healthz";
    .interval = 2s;
    .timeout = 1s;
    .window = 3;
    .threshold = 2;
}

backend replica1 { .host = "127.0.0.1"; .port = "8081"; .probe = assetc_health; } # replica
backend replica2 { .host = "127.0.0.1"; .port = "8082"; .probe = assetc_health; } # replica

sub vcl_init {
    new replicas = directors.round_robin();
    replicas.add_backend(replica1);
    replicas.add_backend(replica2);
}

sub vcl_recv {
    set req.backend_hint = replicas.backend();
    unset req.http.Cookie;
    if (req.http.Accept-Encoding ~ "(?i)(^|,)\s*br\s*(,|;\s*q\s*=\s*(1|0*\.\d*[1-9])|$)") {
        set req.http.Accept-Encoding = "br";
    } elsif (req.http.Accept-Encoding ~ "(?i)(^|,)\s*zstd\s*(,|;\s*q\s*=\s*(1|0*\.\d*[1-9])|$)") {
        set req.http.Accept-Encoding = "zstd";
    } elsif (req.http.Accept-Encoding ~ "(?i)(^|,)\s*(x-)?gzip\s*(,|;\s*q\s*=\s*(1|0*\.\d*[1-9])|$)") {
        set req.http.Accept-Encoding = "gzip";
    } else {
        unset req.http.Accept-Encoding;
    }
}

sub vcl_backend_response {
    if (beresp.status == 200 && beresp.http.ETag ~ {"^""} &&
        beresp.http.Cache-Control ~ "(?i)(^|,)\s*no-cache\s*(,|$)" &&
        beresp.http.Cache-Control !~ "(?i)no-store|private") {
        set beresp.ttl = 0.001s;
        set beresp.grace = 0s;
        set beresp.keep = 1d;
        return (deliver);
    }
}
