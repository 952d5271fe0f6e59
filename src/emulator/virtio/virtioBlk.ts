/** include/uapi/linux/virtio_blk.h: the constants both ends of virtio-block use. */
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;
export const VIRTIO_BLK_ID_BYTES = 20;
