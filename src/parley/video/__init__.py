"""Live video rooms: the frame hub, its sources and the MJPEG routes."""
