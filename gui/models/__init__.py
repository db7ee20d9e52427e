"""Qt item models over the engine's stores, jobs, mutexes and set manifests."""
