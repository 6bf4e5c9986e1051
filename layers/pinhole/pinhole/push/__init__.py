"""Push to phones through Amazon SNS mobile push: devices, settings, the push queue and its worker."""
