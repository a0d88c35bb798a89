"""The Django example project: pages whose assets come fingerprinted from `assetc serve`."""
