vcl 4.1;
# Varnish (7.1, as Debian 12 ships it) as a shared cache in front of N `assetc serve`
# replicas of one build. Run it with gzip handling off, so that the replicas' br, zstd and
# gzip variants pass through untouched:
#
#   varnishd -a :80 -f /etc/varnish/assetc.vcl -p http_gzip_support=off -s malloc,1g
#
# Start every replica with `--health-path /healthz`, and list each one below (one
# `backend` line per replica, added to the director in vcl_init). tests/cache.rs runs this
# file as it is, changing only `.host` and `.port` on the lines marked `# replica`.
#
# With `http_gzip_support` on (the default) Varnish asks every replica for gzip whatever
# the client accepts, so br and zstd never reach a browser, and it gunzips for clients
# without gzip under a weakened `W/` ETag; and the built-in VCL never stores a `no-cache`
# page, so every page view is a full page from a replica. deploy/README.md has the numbers.

import directors;

# assetc answers `200 ok` at --health-path; a replica that fails two of three probes gets
# no traffic until it answers again.
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
    # assetc's answers never depend on cookies, and the built-in VCL passes (never caches)
    # every request that has one: a browser sends the app's cookies to the assets too.
    unset req.http.Cookie;
    # One normalised Accept-Encoding: the coding the replica will choose (br, then zstd,
    # then gzip, as assetc prefers them; a coding with q=0 is refused). The Vary lookup
    # then keeps at most four objects per URL, one per representation, instead of one per
    # spelling of the header (RFC 9111 §4.1). Needs http_gzip_support=off, which would
    # otherwise rewrite the header to gzip.
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
    # Fingerprinted files (`public, max-age=31536000, immutable`) are stored for their
    # max-age by the built-in VCL, and 404s (`no-store`) are never stored.
    #
    # Pages and other entry points are `no-cache` with a strong ETag: store them, but
    # never reuse one without asking a replica (RFC 9111 §5.2.2.4). A TTL of 1 ms makes
    # each object stale at once; `keep` holds it a day so that the next request is a
    # conditional fetch with its ETag (§4.3.1), which any replica answers 304 with no
    # body, since every replica of a build has the same validators (MAIN.fetch_304 counts
    # them). A TTL of 0 would not do: Varnish never finds an object whose TTL is 0 to
    # revalidate. No grace: a stale page is never served while revalidating.
    if (beresp.status == 200 && beresp.http.ETag ~ {"^""} &&
        beresp.http.Cache-Control ~ "(?i)(^|,)\s*no-cache\s*(,|$)" &&
        beresp.http.Cache-Control !~ "(?i)no-store|private") {
        set beresp.ttl = 0.001s;
        set beresp.grace = 0s;
        set beresp.keep = 1d;
        return (deliver);
    }
}
